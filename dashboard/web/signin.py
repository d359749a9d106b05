"""Signing in and out, the forced password change, and throttled failures.

Failed sign-ins are counted by Flask-Limiter in Redis (the Redis we already run,
shared by every web process), per account and per address, over a moving window
of `login_lockout_s`: after `login_failures` failures of one account (or
`login_address_failures` from one address) the next attempts get a 429, even with
the right password, until the oldest failure leaves the window. Only failures
count (`deduct_when`), so a commander who signs in often is never locked. Every
attempt is audited with its time, user name, address and result.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import logout_user

from dashboard.store import audit
from dashboard.store.accounts import AuthError
from dashboard.web import auth
from dashboard.web.context import App, Routes, add_routes
from dashboard.web.guard import page

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, else home.

    Browsers drop tabs and newlines and read a backslash as a slash, so
    `/\\t/evil.example` would leave the server: any such character refuses the target.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch < " " or ch in "\\\x7f" for ch in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _audit(app: App, actor: str | None, action: str, result: str, **detail: Any) -> None:
    with app.store.sessions.begin() as db:
        audit.record(db, actor, action, result, auth.address(), **detail)


def login(app: App) -> Any:
    """The sign-in form, and signing in."""
    if request.method != "POST":
        return login_page("", 200)
    username = request.form.get("username", "").strip()
    user, result = app.accounts.authenticate(username, request.form.get("password", ""))
    _audit(app, username or None, "sign_in", result)
    if user is None:
        return login_page("用户名或密码错误 / Wrong username or password", 401)
    session.clear()  # a fresh session: nothing planted before sign-in survives it
    auth.sign_in(app, app.logins.open(auth.address(), user_id=user.id))
    if user.must_change_password:
        return redirect("/password")
    return redirect(safe_next(request.args.get("next")))


def logout(app: App) -> Any:
    """Sign out: the server-side session ends, so a copied cookie is worthless."""
    who = auth.principal()
    if who is not None and who.key:
        app.logins.close(who.key)
        _audit(app, who.name, "sign_out", "ok")
    logout_user()
    session.clear()
    return redirect("/login")


def password(app: App) -> Any:
    """A signed-in user changes their own password (forced at first sign-in)."""
    who = auth.principal()
    if who is None or who.user_id is None:
        return redirect("/login")
    if request.method != "POST":
        return password_page(who.must_change_password, "", 200)
    new = request.form.get("new", "")
    if new != request.form.get("repeat", ""):
        return password_page(who.must_change_password, "两次输入不一致 / They differ", 400)
    try:
        app.accounts.change_own_password(who.user_id, request.form.get("current", ""), new)
    except AuthError as error:
        _audit(app, who.name, "password.change", "refused", why=str(error))
        return password_page(who.must_change_password, str(error), 400)
    app.logins.end_others(who.user_id, who.key)
    _audit(app, who.name, "password.change", "ok")
    return redirect("/")


def home(app: App) -> Any:
    """Links to the views."""
    links = (
        '<p><a href="/wall/">大屏 / Wall</a></p><p><a href="/desk/">值班指挥台 / Desk</a></p>'
        '<p><a href="/tablet/">城市运行概况 / Tablet</a></p>'
        '<p><a href="/admin/audit">审计日志 / Audit</a></p><p><a href="/logout">退出</a></p>'
    )
    return page("command hall", links, 200, raw=True)


def _locked(app: App, error: Any) -> Any:
    username = request.form.get("username", "").strip() or None
    _audit(app, username, "sign_in", "locked")
    log.warning("Sign-in: %s from %s locked out (%s)", username, auth.address(), error)
    minutes = max(1, round(app.settings.login_lockout_s / 60))
    message = (
        f"登录失败次数过多，请 {minutes} 分钟后再试。/ "
        f"Too many failed sign-ins: try again in {minutes} minute(s)."
    )
    return login_page(message, 429)


def _limiter(app: App) -> Limiter:
    pool = app.redis.connection_pool
    return Limiter(
        get_remote_address,
        app=app.server,
        storage_uri="redis://",
        storage_options={"connection_pool": pool},  # type: ignore[dict-item]
        strategy="moving-window",
        # Keys of their own per stream key: halls sharing a Redis never share counts.
        key_prefix=f"{app.settings.stream_key}:limits",
        # A Redis outage must not lock everyone out: count in memory meanwhile.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )


ROUTES: Routes = (
    (("GET", "POST"), "/logout", logout),
    (("GET", "POST"), "/password", password),
    (("GET",), "/", home),
)


def register(app: App) -> Limiter:
    """The sign-in pages, with throttled failures."""
    limiter = _limiter(app)
    window = app.settings.login_lockout_s

    def failed(response: Response) -> bool:
        return response.status_code == 401

    def account() -> str:
        return "account:" + request.form.get("username", "").strip().lower()

    @limiter.limit(
        f"{app.settings.login_failures} per {window} seconds",
        key_func=account, methods=["POST"], deduct_when=failed, scope="login-account",
    )  # fmt: skip
    @limiter.limit(
        f"{app.settings.login_address_failures} per {window} seconds",
        methods=["POST"], deduct_when=failed, scope="login-address",
    )  # fmt: skip
    def login_view() -> Any:
        return login(app)

    app.server.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])
    app.server.register_error_handler(429, lambda error: _locked(app, error))
    add_routes(app, ROUTES)
    return limiter


def login_page(message: str, status: int) -> Response:
    """The sign-in form."""
    form = (
        f"<p class='error'>{escape(message)}</p><form method='post'>"
        "<input name='username' placeholder='用户名 / username' autofocus><br>"
        "<input name='password' type='password' placeholder='密码 / password'><br>"
        "<button type='submit'>登录 / Sign in</button></form>"
    )
    return page("登录 / Sign in", form, status, raw=True)


def password_page(forced: bool, message: str, status: int) -> Response:
    """The form to choose a new password."""
    why = "首次登录须修改密码 / Choose your own password first. " if forced else ""
    form = (
        f"<p>{escape(why)}</p><p class='error'>{escape(message)}</p><form method='post'>"
        "<input name='current' type='password' placeholder='当前密码 / current'><br>"
        "<input name='new' type='password' placeholder='新密码 / new'><br>"
        "<input name='repeat' type='password' placeholder='再次输入 / repeat'><br>"
        "<button type='submit'>修改 / Change</button></form>"
    )
    return page("修改密码 / Change password", form, status, raw=True)
