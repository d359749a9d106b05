"""Security headers on every response, and the same-origin rule for state changes.

CSRF: every state-changing request that relies on the session cookie (the sign-in
form included, against login CSRF) must carry an `Origin` header naming this
server, or failing that a `Referer` on it; browsers send `Origin` with every POST,
so a page on another site cannot make one for a signed-in user. Only a request that
an API key actually authenticated, and that carries no session cookie, is exempt
(keys may only read): any `Authorization` header used to switch the check off while
the cookie still signed the request in (issue 20).

CSP: only this server's own origin, plus `blob:` for the map's worker, the
configured intranet tile host, and the hashes of the inline scripts Dash writes
into its index page (its renderer start-up and clientside callbacks); styles allow
inline because Dash and Leaflet set them on elements.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from dash import Dash
from flask import Response, jsonify, request

from dashboard.store import audit
from dashboard.web import auth
from dashboard.web.context import App

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def own_origin() -> str:
    """This server's origin as the browser sees it (behind trusted proxies too)."""
    return f"{request.scheme}://{request.host}"


def same_origin() -> bool:
    """Whether the request says it comes from a page of this server."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own_origin()
    referer = request.headers.get("Referer")
    return referer is not None and (referer + "/").startswith(own_origin() + "/")


def by_api_key_alone(app: App) -> bool:
    """Whether an API key signed this request in and no session cookie came with it."""
    if app.server.config["SESSION_COOKIE_NAME"] in request.cookies:
        return False  # not loaded: a forged request must not refresh the victim's session
    who = auth.principal()
    return who is not None and who.kind == "apikey"


def check_origin(app: App) -> Any:
    """Before every request: refuse a cross-site state change (403, audited)."""
    if request.method not in UNSAFE or same_origin() or by_api_key_alone(app):
        return None
    with app.store.sessions.begin() as db:
        audit.record(
            db, None, "request", "refused", auth.address(), method=request.method,
            path=request.path, why="cross-origin", origin=request.headers.get("Origin"),
        )  # fmt: skip
    return jsonify({"error": "cross-origin request refused (Origin must be this server)"}), 403


def tile_origin(tile_url: str) -> str:
    """The origin of the configured tile URL template, for the CSP ('' if none)."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    # Leaflet's {s} subdomains become a wildcard; other placeholders are in the path.
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def policy(app: App, script_hashes: Iterable[str]) -> str:
    """The Content-Security-Policy of every response."""
    tiles = tile_origin(app.settings.tile_url)
    ancestors = app.settings.frame_ancestors.strip() or "'none'"
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *sorted(set(script_hashes))]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob: {tiles}".strip(),
        "font-src": "'self' data:",
        "connect-src": f"'self' {tiles}".strip(),
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": ancestors,
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def secure(app: App, dashes: list[Dash], response: Response) -> Response:
    """After every request: the security headers."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy(app, _hashes(tuple(dashes))))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not app.settings.frame_ancestors.strip():
        headers.setdefault("X-Frame-Options", "DENY")
    if app.settings.https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith(("/api/", "/admin/", "/login", "/password")):
        headers.setdefault("Cache-Control", "no-store")
    return response


@functools.cache
def _hashes(dashes: tuple[Dash, ...]) -> tuple[str, ...]:
    # Computed at the first response, once every clientside callback is registered.
    return tuple(h for dash in dashes for h in dash.csp_hashes())


def register(app: App, dashes: list[Dash]) -> None:
    """Install the origin check and the headers."""
    app.server.before_request(functools.partial(check_origin, app))
    app.server.after_request(functools.partial(secure, app, dashes))
