"""Who is asking: Flask-Login loads the principal from the database on every request.

The cookie holds only a server-side session's random key (`dashboard.store.logins`);
the role comes from the user's row each time, so disabling a user, changing their
role or revoking a wall's token takes effect on the next request. Integrations
send an API key as `Authorization: Bearer …`, accepted on the JSON API only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Request, has_request_context, request
from flask_login import LoginManager, current_user, login_user

from dashboard.store import audit
from dashboard.store.logins import Holder
from dashboard.web.context import App

log = logging.getLogger(__name__)

# Where API keys are accepted: the JSON API, Open311, metrics and health's figures,
# nothing with a page.
KEY_PREFIXES = ("/api/", "/open311/v2/", "/metrics", "/healthz")
# Dash props a person changes by hand; interval ticks and pushes are not activity.
ACTIVE_PROPS = (".n_clicks", ".submit_n_clicks", ".value", ".n_submit", ".cancel_n_clicks")


@dataclass(frozen=True)
class Principal:
    """A signed-in user, a wall's display session or an API key, for this request."""

    kind: str  # "user" | "display" | "apikey"
    name: str
    role: str
    key: str = ""  # the raw session key (users and walls), Flask-Login's id
    key_hash: str = ""
    user_id: int | None = None
    token_id: int | None = None
    must_change_password: bool = False

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session key Flask-Login keeps in the cookie."""
        return self.key

    @classmethod
    def of(cls, holder: Holder, key: str) -> Principal:
        """The principal a live session stands for."""
        kind = "display" if holder.token_id is not None else "user"
        return cls(
            kind=kind,
            name=holder.name,
            role=holder.role,
            key=key,
            key_hash=holder.key_hash,
            user_id=holder.user_id,
            token_id=holder.token_id,
            must_change_password=holder.must_change_password,
        )


def principal() -> Principal | None:
    """Who is asking in this request, or None."""
    user: Any = current_user
    return user if isinstance(user, Principal) else None


def username() -> str | None:
    """The name of who is asking, or None (also outside a request: Dash's start-up)."""
    found = principal() if has_request_context() else None
    return found.name if found else None


def as_user() -> dict[str, Any]:
    """The principal as the role/username mapping actions take."""
    found = principal()
    return {"role": found.role if found else None, "username": found.name if found else None}


def address() -> str | None:
    """The client's address (the proxy's view of it when proxies are trusted); None
    outside a request (an action run from code, as in a test or a script)."""
    return request.remote_addr if has_request_context() else None


def is_activity(req: Request) -> bool:
    """Whether this request is a person using the page (idle time starts over)."""
    if req.path.startswith(("/api/", "/socket.io")):
        return False
    if req.path.endswith("/_dash-update-component"):
        body = req.get_json(silent=True)
        found = body.get("changedPropIds") if isinstance(body, dict) else None
        changed = [str(prop) for prop in found] if isinstance(found, list) else []
        return any(prop.endswith(ACTIVE_PROPS) for prop in changed)
    return True


def sign_in(app: App, holder_key: str) -> Principal | None:
    """Put a just-opened server-side session into the cookie."""
    holder = app.logins.holder(holder_key, active=False)
    if holder is None:
        return None
    found = Principal.of(holder, holder_key)
    login_user(found)
    return found


def register(app: App) -> LoginManager:
    """Install Flask-Login with our loaders."""
    manager = LoginManager()
    # Our server-side session already ends on sign-out; Flask-Login's own
    # protection would sign walls out when a proxy changes their address.
    manager.session_protection = None
    manager.init_app(app.server)

    @manager.user_loader
    def load(key: str) -> Principal | None:
        holder = app.logins.holder(key, active=is_activity(request))
        return Principal.of(holder, key) if holder is not None else None

    @manager.request_loader
    def from_api_key(req: Request) -> Principal | None:
        scheme, _, raw = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not req.path.startswith(KEY_PREFIXES) or not raw:
            return None
        key, first_today = app.apikeys.check(raw.strip())
        if key is None:
            return None
        if first_today:
            with app.store.sessions.begin() as db:
                audit.record(db, f"key:{key.name}", "apikey.used", "ok", address(), path=req.path)
        return Principal(kind="apikey", name=f"key:{key.name}", role="api")

    return manager
