"""Who may open what: every request is checked against the permission table.

`TABLE` has a row for every route the server has (a test walks Flask's URL map and
each Dash app's routes against it), written like Flask's rules, with the methods
and the permissions of which a principal needs one. The first row that matches
decides; a request that no row matches is refused for everybody (404), so a route
added without a row is open to nobody rather than to every viewer (issue 20).

Public rows are our static routes (Dash's bundles and our assets hold no data),
matched whole, never as substrings: `/desk/x/assets/y` is the desk's catch-all
page, not an asset (issue 12), and no path with `..` or an empty segment is public.
A wall's display token holds only `view_wall`, so it opens the wall and the two
endpoints the wall reads.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, redirect, request, session

from dashboard.domain.access import Permission, Role, allowed
from dashboard.domain.networks import address_allowed, networks_of
from dashboard.runtime import StartupError
from dashboard.store import audit
from dashboard.store.audit import Result
from dashboard.web import auth
from dashboard.web.actions import ACTIONS
from dashboard.web.context import App

log = logging.getLogger(__name__)

PUBLIC = "public"  # anyone, signed in or not
ANY_PERSON = "any_person"  # a signed-in person whatever their role (home, own password)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GET, POST = ("GET",), ("POST",)
VIEWS = {"wall": Permission.VIEW_WALL, "desk": Permission.VIEW_DESK}
VIEWS["tablet"] = Permission.VIEW_TABLET


@dataclass(frozen=True)
class Row:
    """One row of the table: methods, a path written like a Flask rule, permissions."""

    methods: tuple[str, ...]
    rule: str  # <name> is one path segment, <path:name> the rest of the path
    needs: frozenset[str]
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(_regex(self.rule)))

    def matches(self, path: str, method: str) -> bool:
        """Whether this row decides for the request."""
        if self.needs == {PUBLIC} and not clean(path):
            return False
        return method in self.methods and self.pattern.fullmatch(path) is not None


def _regex(rule: str) -> str:
    parts = re.split(r"(<[^>]+>)", rule)
    return "".join(
        (".+" if part.startswith("<path:") else "[^/]+")
        if part.startswith("<")
        else re.escape(part)
        for part in parts
    )


def row(methods: tuple[str, ...], rule: str, *needs: str) -> Row:
    """A row of the table."""
    return Row(methods, rule, frozenset(needs))


def clean(path: str) -> bool:
    """No way round the public rows by traversal or empty segments."""
    return ".." not in path.split("/") and "//" not in path


def _view_rows(view: str, permission: Permission) -> list[Row]:
    """A Dash app's routes: its static files for anyone, its page and callbacks."""
    base = f"/{view}"
    return [
        row(GET, f"{base}/assets/<path:filename>", PUBLIC),
        row(GET, f"{base}/_dash-component-suites/<package>/<path:fingerprinted>", PUBLIC),
        row(GET, f"{base}/_favicon.ico", PUBLIC),
        row(GET, f"{base}/_dash-layout", permission),
        row(GET, f"{base}/_dash-dependencies", permission),
        row(GET, f"{base}/_reload-hash", permission),
        row(POST, f"{base}/_dash-update-component", permission),
        row(GET, base, permission),  # Flask sends it on to the slash
        row(GET, f"{base}/", permission),
        row(GET, f"{base}/<path:path>", permission),  # Dash's pages within the view
    ]


READ_API = Permission.READ_API
TABLE: tuple[Row, ...] = (
    row(GET, "/healthz", PUBLIC),  # its figures only to some (health.may_see_details)
    row(GET, "/healthz/live", PUBLIC),
    row(GET, "/healthz/ready", PUBLIC),
    row(GET + POST, "/login", PUBLIC),
    row(GET + POST, "/logout", PUBLIC),
    row(GET + POST, "/password", ANY_PERSON),
    row(GET, "/", ANY_PERSON),
    row(GET, "/metrics", READ_API),  # or an address of --metrics-allow
    row(GET, "/socket.io/", Permission.VIEW_WALL),  # checked again on connect (screens)
    row(POST, "/api/screens/latency", Permission.VIEW_WALL),  # every screen reports
    row(GET, "/api/snapshot", Permission.VIEW_WALL, READ_API),  # what a wall reads
    row(GET, "/api/emergency", Permission.VIEW_WALL, READ_API),
    row(POST, "/api/emergency", Permission.SWITCH_EMERGENCY),
    # urge, supervise, flag: each its own permission; an unknown action is told why
    # (400) to those who may do some action, and refused to everyone else
    *(row(POST, f"/api/cases/<case_id>/{name}", need) for name, (_, need) in ACTIONS.items()),
    row(POST, "/api/cases/<case_id>/<action>", *(need for _, need in ACTIONS.values())),
    row(GET, "/api/cases/<case_id>", READ_API),
    row(GET, "/api/emergencies", READ_API),
    row(GET, "/api/emergencies/<emergency_id>", READ_API),  # and its .csv
    row(GET, "/api/boards", READ_API),
    row(GET, "/api/kpis", READ_API),
    row(GET, "/api/rankings", READ_API),
    row(GET, "/api/desk/cases", Permission.VIEW_DESK),
    row(GET, "/api/desk/export.csv", Permission.VIEW_DESK),
    row(GET, "/api/desk/acks", Permission.VIEW_DESK),
    row(POST, "/api/desk/acks", Permission.ACKNOWLEDGE),
    row(GET, "/open311/v2/services.<form>", READ_API),  # or anyone: --open311-public
    row(GET, "/open311/v2/requests.<form>", READ_API),
    row(GET, "/open311/v2/requests/<request_id>.<form>", READ_API),
    row(GET, "/admin/audit", Permission.READ_AUDIT),
    row(GET, "/admin/audit.csv", Permission.READ_AUDIT),
    row(GET, "/tablet/bulletin", Permission.VIEW_TABLET),
    row(GET, "/tablet/bulletin.csv", Permission.VIEW_TABLET),
    *(r for view, permission in VIEWS.items() for r in _view_rows(view, permission)),
)


def row_for(path: str, method: str) -> Row | None:
    """The row that decides for this request, or None: refused for everybody."""
    method = "GET" if method in ("HEAD", "OPTIONS") else method
    return next((r for r in TABLE if r.matches(path, method)), None)


def permits(who: auth.Principal, found: Row) -> bool:
    """Whether this principal may make a request that this row decides."""
    if ANY_PERSON in found.needs:
        return who.kind == "user"
    return any(allowed(who.role, Permission(p)) for p in found.needs)


def check(app: App) -> Any:
    """Before every request: let it through, or answer 401/403/404 or the sign-in page."""
    path = request.path
    found = row_for(path, request.method)
    if found is None:
        return _unlisted()
    if PUBLIC in found.needs:
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
        return _refuse(app, who, "password change first", found, redirect_to="/password")
    if not permits(who, found):
        return _refuse(app, who, "not permitted", found)
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
        _audit_display(app, None, Result.REFUSED)
        return page("Display token not valid", "该显示令牌无效或已被吊销。", 403)
    current = auth.principal()
    if current is not None and current.token_id == token.id:
        return None  # a reload of the same screen keeps its session (no new row)
    session.clear()
    auth.sign_in(app, app.logins.open(auth.address(), token_id=token.id))
    session["screen"] = token.name  # a token is named after its screen
    _audit_display(app, token.name, Result.OK)
    return None


def _audit_display(app: App, name: str | None, result: audit.Result) -> None:
    """A wall's sign-in with a display token (never the token itself: it is a secret)."""
    with app.store.sessions.begin() as db:
        actor = f"display:{name}" if name else None
        audit.record(db, actor, "display.sign_in", result, auth.address(), token=name)


def _unlisted() -> Any:
    """A path no row of the table names: nobody's (a scanner's probe, or a route
    added without a decision, which the table test catches)."""
    log.info("Guard: %s %s has no row in the table; refused", request.method, request.path)
    # A path listed for other methods only is one Flask would answer 405 for.
    listed = any(r.pattern.fullmatch(request.path) for r in TABLE)
    status, what = (405, "method not allowed") if listed else (404, "no such resource")
    if request.path.startswith(("/api/", "/open311/", "/metrics")):
        return jsonify({"error": f"{what}: {request.method} {request.path}"}), status
    return page(what.capitalize(), f"{what}: {request.method} {request.path}", status)


def _anonymous(path: str) -> Any:
    if path.startswith(("/api/", "/open311/", "/metrics")):
        # Integrations read JSON: the refusal is JSON too, not a page.
        return jsonify({"error": "sign in, open a wall with its token, or send an API key"}), 401
    if path.startswith(("/wall", "/socket.io")) or request.method in UNSAFE:
        return page("Not allowed", "需要有效的显示令牌或登录。", 401)
    return redirect("/login?next=" + quote(request.full_path.rstrip("?")))


def _refuse(app: App, who: auth.Principal, why: str, found: Row, redirect_to: str = "") -> Any:
    with app.store.sessions.begin() as db:
        audit.record(
            db, who.name, "request", "refused", auth.address(),
            method=request.method, path=request.path, why=why,
        )  # fmt: skip
    if redirect_to and request.method == "GET" and not request.path.startswith("/api/"):
        return redirect(redirect_to)
    if request.path.startswith(("/api/", "/open311/")) or request.method in UNSAFE:
        return jsonify({"error": _why_not(who, why, found)}), 403
    return page("Not allowed", "您的角色无权访问此页面。/ Your role may not open this page.", 403)


def _why_not(who: auth.Principal, why: str, found: Row) -> str:
    wanted = found.needs - {ANY_PERSON}
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
