"""The one construction point: `create_app(settings)` builds Flask, Dash and Socket.IO.

The CLI, the tests and the Procfile all call it (datasette's `Datasette(...).app()`).
It is the only module that imports both the web layer and the pages.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from flask_compress import Compress
from flask_socketio import SocketIO
from gevent import monkey
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import runtime
from dashboard.domain.city import city_rules
from dashboard.domain.walls import load_walls
from dashboard.settings import Settings
from dashboard.store.accounts import Accounts
from dashboard.store.apikeys import ApiKeys
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from dashboard.store.logins import Logins
from dashboard.web import (
    admin,
    api,
    auth,
    bodysize,
    dashrequests,
    guard,
    headers,
    health,
    open311,
    screens,
    signin,
)
from dashboard.web import desk as desk_api
from dashboard.web import metrics as hall_metrics
from dashboard.web.context import App
from dashboard.web.screens import ResyncingRedisManager
from dashboard.web.snapshot import snapshot
from dashboard.web.warm import WarmSnapshot
from layouts import BUILD, desk, tablet, wall
from streams.names import CaseState, push_channel

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    redis_url: str | None = None,
) -> App:
    """Build the web application for the settings; connections may be passed in."""
    rules = city_rules(settings)  # a broken city file is the first thing to hear about
    engine = engine or make_engine(settings.resolved_database_url)
    init_db(engine, upgrade=settings.db_upgrade)
    redis_url = redis_url or runtime.redis_url(settings)
    server = Flask("commandhall", static_folder=None)  # Dash serves our assets
    server.config.update(
        SECRET_KEY=runtime.secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind a TLS proxy the cookie must never travel in clear (setting `https`).
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_NAME="commandhall_session",
        COMPRESS_MIMETYPES=["application/json", "text/html", "text/css", "application/javascript"],
    )
    Compress(server)
    # Websocket transport only, so several web processes need no sticky sessions.
    manager = ResyncingRedisManager(redis_url, channel=push_channel(settings.stream_key))
    socketio = SocketIO(
        server,
        client_manager=manager,
        async_mode=async_mode(),
        transports=["websocket"],
    )
    if settings.trusted_proxies:
        # Outermost, so Socket.IO's same-origin check sees the proxied host too; only
        # as many X-Forwarded-* hops as there are proxies are believed.
        hops = settings.trusted_proxies
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = App(
        settings=settings,
        server=server,
        socketio=socketio,
        engine=engine,
        redis=runtime.connect(redis_url),
        redis_url=redis_url,
        catalogue=rules.catalogue,
        store=Store(engine, rules),
        accounts=Accounts(sessions, settings.password_min_length),
        logins=Logins(
            sessions,
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        ),
        apikeys=ApiKeys(sessions),
        walls=load_walls(settings.walls_file or None),
        build=BUILD,
    )
    app.warm = WarmSnapshot(
        lambda: snapshot(app),
        lambda: screens.start_listening(app),
        frozenset(state.value for state in CaseState if state.is_open),
    )
    manager.warm = app.warm
    _register(app)
    return app


def async_mode() -> str:
    """gevent under `commandhall serve` (gunicorn's gevent worker has patched the
    standard library before the app is built), threads anywhere else (tests' clients,
    a plain WSGI server): the mode must match the server, whichever is installed."""
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def _register(app: App) -> None:
    # Order matters: the body's size first (nothing reads a body before it), then
    # Flask-Login (the principal), the origin check, the sign-in throttle and the
    # guard, then the shape of Dash's callback bodies (for those the guard let in:
    # a stranger hears 401/403, not what was wrong with the body), all before any view.
    bodysize.register(app)
    auth.register(app)
    dashes: list = []
    headers.register(app, dashes)
    signin.register(app)
    guard.register(app)
    dashrequests.register(app)
    health.register(app)
    hall_metrics.register(app)
    api.register(app)
    open311.register(app)
    desk_api.register(app)
    admin.register(app)
    screens.register(app)
    dashes.extend([wall.register(app), desk.register(app), tablet.register(app)])
