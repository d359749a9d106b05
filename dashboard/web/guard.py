"""Who may open what: walls with a display token, other views with a signed-in user.

Static files (Dash's bundles, our assets) are public: they hold no data.
"""

from __future__ import annotations

import functools
from html import escape
from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, redirect, request, session

from dashboard.web.context import App, Routes, add_routes

PUBLIC_PREFIXES = ("/healthz", "/login", "/logout", "/favicon.ico")
PUBLIC_PARTS = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")


def is_public(path: str) -> bool:
    """Whether a path is served to anyone."""
    return path.startswith(PUBLIC_PREFIXES) or any(part in path for part in PUBLIC_PARTS)


def viewer(app: App) -> dict[str, Any] | None:
    """Who is looking: a signed-in user or an active display token, else None."""
    if session.get("user_id"):
        return {"user": session["user_id"], "role": session.get("role")}
    token_id = session.get("display_token")
    if token_id and app.accounts.token_active(token_id):
        return {"display": token_id}
    return None


def check(app: App) -> Any:
    """Before every request: let it through, or answer 401/403 or the sign-in page."""
    path = request.path
    if is_public(path):
        return None
    if path.startswith("/wall") and request.args.get("token"):
        token = app.accounts.check_token(request.args["token"])
        if token is None:
            return page("Display token not valid", "该显示令牌无效或已被吊销。", 403)
        session["display_token"] = token.id
        session["screen"] = token.name  # a token is named after its screen
    if viewer(app) is not None:
        if path.startswith("/wall") and request.args.get("screen") and session.get("user_id"):
            session["screen"] = request.args["screen"]  # a signed-in user picks one
        return None
    if path.startswith("/api/"):
        # Integrations read JSON: the refusal is JSON too, not a page.
        return jsonify({"error": "sign in (POST /login) or open a wall with its token"}), 401
    if path.startswith(("/wall", "/socket.io")):
        return page("Not allowed", "需要有效的显示令牌或登录。", 401)
    return redirect("/login?next=" + quote(request.full_path))


def login(app: App) -> Any:
    """The sign-in form, and signing in."""
    if request.method != "POST":
        return login_page("", 200)
    user = app.accounts.sign_in(request.form.get("username", ""), request.form.get("password", ""))
    if user is None:
        return login_page("用户名或密码错误 / Wrong username or password", 401)
    session.clear()
    session.update(user_id=user.id, role=user.role, username=user.username)
    target = request.args.get("next", "/")
    # Only back into this server: "//host/…" would leave it.
    local = target.startswith("/") and not target.startswith("//")
    return redirect(target if local else "/")


def logout(app: App) -> Any:
    """Sign out."""
    session.clear()
    return redirect("/login")


def home(app: App) -> Any:
    """Links to the views."""
    links = (
        '<p><a href="/wall/">大屏 / Wall</a></p><p><a href="/desk/">值班指挥台 / Desk</a></p>'
        '<p><a href="/tablet/">城市运行概况 / Tablet</a></p><p><a href="/logout">退出</a></p>'
    )
    return page("command hall", links, 200, raw=True)


ROUTES: Routes = (
    (("GET", "POST"), "/login", login),
    (("GET",), "/logout", logout),
    (("GET",), "/", home),
)


def register(app: App) -> None:
    """Install the guard and the sign-in pages."""
    app.server.before_request(functools.partial(check, app))
    add_routes(app, ROUTES)


def page(title: str, body: str, status: int, raw: bool = False) -> Response:
    """A plain page with no outside resources."""
    content = body if raw else f"<p>{escape(body)}</p>"
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{background:#070d17;color:#e6edf5;font-family:sans-serif;padding:4em}"
        "a{color:#9fd3ff}input{font-size:1.2em;margin:.3em}</style></head>"
        f"<body data-status='{status}'><h1>{escape(title)}</h1>{content}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


def login_page(message: str, status: int) -> Response:
    """The sign-in form."""
    form = (
        f"<p class='error'>{escape(message)}</p><form method='post'>"
        "<input name='username' placeholder='用户名 / username' autofocus><br>"
        "<input name='password' type='password' placeholder='密码 / password'><br>"
        "<button type='submit'>登录 / Sign in</button></form>"
    )
    return page("登录 / Sign in", form, status, raw=True)
