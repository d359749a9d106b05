"""Who may open what: every request is checked against the permission table.

Public paths are exact prefixes of our own static routes (Dash's bundles and our
assets hold no data), never substrings: `/desk/x/assets/y` is the desk's catch-all
page, not an asset (issue 12). Everything else needs a principal whose role holds
the permission the path needs (`needed`); a wall's display token holds only
`view_wall`, so it opens the wall and the two endpoints the wall reads.
"""

from __future__ import annotations

import functools
import logging
from html import escape
from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, redirect, request, session

from dashboard.domain.access import Permission, Role, allowed
from dashboard.domain.networks import address_allowed, networks_of
from dashboard.runtime import StartupError
from dashboard.store import audit
from dashboard.web import auth
from dashboard.web.actions import ACTIONS
from dashboard.web.context import App

log = logging.getLogger(__name__)

VIEWS = {"wall": Permission.VIEW_WALL, "desk": Permission.VIEW_DESK}
VIEWS["tablet"] = Permission.VIEW_TABLET
STATIC = ("_dash-component-suites/", "assets/", "_favicon.ico")
PUBLIC_EXACT = frozenset(
    {"/healthz", "/healthz/live", "/healthz/ready", "/login", "/logout", "/favicon.ico"}
)
PUBLIC_PREFIXES = tuple(f"/{view}/{part}" for view in VIEWS for part in STATIC)
# Paths a signed-in person may open whatever their role (home, own password).
ANY_PERSON = "any_person"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_public(path: str) -> bool:
    """Whether a path is served to anyone: exact names and our static prefixes."""
    if ".." in path.split("/") or "//" in path:
        return False  # no way round the prefixes by traversal or empty segments
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def _case_action(path: str) -> str | None:
    """The action of POST /api/cases/<id>/<action>, or None."""
    parts = path.split("/")
    if len(parts) == 5 and parts[1:3] == ["api", "cases"] and parts[4] in ACTIONS:
        return parts[4]
    return None


def needed(path: str, method: str) -> frozenset[str]:
    """The permissions of which a principal needs one for this path (any of them)."""
    if path in ("/api/snapshot", "/api/emergency") and method not in UNSAFE:
        return frozenset({Permission.VIEW_WALL, Permission.READ_API})  # what a wall reads
    if path == "/api/emergency":
        return frozenset({Permission.SWITCH_EMERGENCY})
    if path == "/api/screens/latency":
        return frozenset({Permission.VIEW_WALL})  # every screen reports its push delays
    if path == "/metrics":
        return frozenset({Permission.READ_API})  # or an address of --metrics-allow
    action = _case_action(path) if method in UNSAFE else None
    if action is not None:
        return frozenset({ACTIONS[action][1]})  # urge, supervise, flag: each its own
    if path.startswith("/api/desk/"):
        ack = path == "/api/desk/acks" and method in UNSAFE
        return frozenset({Permission.ACKNOWLEDGE if ack else Permission.VIEW_DESK})
    if path.startswith(("/api/", "/open311/")):
        return frozenset({Permission.READ_API})
    if path.startswith("/admin/"):
        return frozenset({Permission.READ_AUDIT})
    for view, permission in VIEWS.items():
        if path == f"/{view}" or path.startswith(f"/{view}/"):
            return frozenset({permission})
    return frozenset({ANY_PERSON})


def permits(who: auth.Principal, path: str, method: str) -> bool:
    """Whether this principal may make this request."""
    wanted = needed(path, method)
    if ANY_PERSON in wanted:
        return who.kind == "user"
    return any(allowed(who.role, Permission(p)) for p in wanted)


def check(app: App) -> Any:
    """Before every request: let it through, or answer 401/403 or the sign-in page."""
    path = request.path
    if is_public(path):
        return None
    if path.startswith("/wall") and request.args.get("token"):
        refused = _open_with_token(app, request.args["token"])
        if refused is not None:
            return refused
    who = auth.principal()
    if who is None and app.settings.open311_public and _open_data(path, request.method):
        return None  # configured as open data: GeoReport v2 reads for anyone
    if who is None and path == "/metrics" and scraper(app):
        return None  # an intranet Prometheus, by its address
    if who is None:
        return _anonymous(path)
    if who.must_change_password and path != "/password":
        return _refuse(app, who, "password change first", redirect_to="/password")
    if not permits(who, path, request.method):
        return _refuse(app, who, "not permitted")
    if path.startswith("/wall") and request.args.get("screen") and who.kind == "user":
        session["screen"] = request.args["screen"]  # a signed-in user picks one
    return None


def _open_data(path: str, method: str) -> bool:
    """A GeoReport v2 read: what an open-data portal may be given without a key."""
    return path.startswith("/open311/v2/") and method in ("GET", "HEAD")


def scraper(app: App) -> bool:
    """Whether the request comes from an address `--metrics-allow` lets read /metrics."""
    networks = networks_of(app.settings.metrics_allow)  # checked at start (register)
    return address_allowed(auth.address(), networks, loopback=False)


def _open_with_token(app: App, raw: str) -> Any:
    token = app.accounts.check_token(raw)
    if token is None:
        return page("Display token not valid", "该显示令牌无效或已被吊销。", 403)
    current = auth.principal()
    if current is not None and current.token_id == token.id:
        return None  # a reload of the same screen keeps its session (no new row)
    session.clear()
    auth.sign_in(app, app.logins.open(auth.address(), token_id=token.id))
    session["screen"] = token.name  # a token is named after its screen
    return None


def _anonymous(path: str) -> Any:
    if path.startswith(("/api/", "/open311/", "/metrics")):
        # Integrations read JSON: the refusal is JSON too, not a page.
        return jsonify({"error": "sign in, open a wall with its token, or send an API key"}), 401
    if path.startswith(("/wall", "/socket.io")) or request.method in UNSAFE:
        return page("Not allowed", "需要有效的显示令牌或登录。", 401)
    return redirect("/login?next=" + quote(request.full_path.rstrip("?")))


def _refuse(app: App, who: auth.Principal, why: str, redirect_to: str = "") -> Any:
    with app.store.sessions.begin() as db:
        audit.record(
            db, who.name, "request", "refused", auth.address(),
            method=request.method, path=request.path, why=why,
        )  # fmt: skip
    if redirect_to and request.method == "GET" and not request.path.startswith("/api/"):
        return redirect(redirect_to)
    if request.path.startswith(("/api/", "/open311/")) or request.method in UNSAFE:
        return jsonify({"error": _why_not(who, why)}), 403
    return page("Not allowed", "您的角色无权访问此页面。/ Your role may not open this page.", 403)


def _why_not(who: auth.Principal, why: str) -> str:
    wanted = needed(request.path, request.method) - {ANY_PERSON}
    holders = sorted({r.value for p in wanted for r in Role if allowed(r, Permission(p))})
    who_may = f"; only {', '.join(holders)} may" if holders else ""
    return f"{why}: {who.role} may not {request.method} {request.path}{who_may}"


def register(app: App) -> None:
    """Install the guard (after Flask-Login, so the principal can be loaded)."""
    try:
        networks_of(app.settings.metrics_allow)
    except ValueError as error:  # said at start, not as a 500 at every scrape
        raise StartupError(f"--metrics-allow: {error}") from error
    app.server.before_request(functools.partial(check, app))


def page(title: str, body: str, status: int, raw: bool = False) -> Response:
    """A plain page with no outside resources."""
    content = body if raw else f"<p>{escape(body)}</p>"
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{background:#070d17;color:#e6edf5;font-family:sans-serif;padding:4em}"
        "a{color:#9fd3ff}input{font-size:1.2em;margin:.3em}table{border-collapse:collapse}"
        "td,th{border:1px solid #334;padding:.2em .5em;text-align:left}</style></head>"
        f"<body data-status='{status}'><h1>{escape(title)}</h1>{content}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")
