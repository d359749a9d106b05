"""The one construction point: `create_app(settings)` builds Flask, Dash and Socket.IO.

The CLI, the tests and the Procfile all call it (datasette's `Datasette(...).app()`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from flask import Flask
from flask_compress import Compress
from flask_socketio import SocketIO
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from dashboard import runtime
from dashboard.auth import Accounts
from dashboard.catalogue import Catalogue
from dashboard.city import city_rules
from dashboard.db import init_db, make_engine
from dashboard.settings import Settings
from dashboard.store import Store
from dashboard.walls import Walls, load_walls
from streams.names import SOCKETIO_CHANNEL

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything one web process holds: settings, connections, Flask and Socket.IO."""

    settings: Settings
    server: Flask
    socketio: SocketIO
    engine: Engine
    redis: redis.Redis
    redis_url: str
    catalogue: Catalogue
    store: Store
    accounts: Accounts
    walls: Walls

    @property
    def timezone(self) -> str:
        """The city's time zone."""
        return self.catalogue.timezone


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    redis_url: str | None = None,
) -> App:
    """Build the web application for the settings; connections may be passed in."""
    rules = city_rules(settings)  # a broken city file is the first thing to hear about
    engine = engine or make_engine(settings.resolved_database_url)
    init_db(engine)
    redis_url = redis_url or runtime.redis_url(settings)
    server = Flask("commandhall")
    server.config.update(
        SECRET_KEY=runtime.secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        COMPRESS_MIMETYPES=["application/json", "text/html", "text/css", "application/javascript"],
    )
    Compress(server)
    # threading mode: maintained (simple-websocket), no monkey-patching of the Redis
    # and database drivers; websocket transport only, so several web processes need
    # no sticky sessions.
    from dashboard.push import ResyncingRedisManager  # the web layer; it imports App

    socketio = SocketIO(
        server,
        client_manager=ResyncingRedisManager(redis_url, channel=SOCKETIO_CHANNEL),
        async_mode="threading",
        transports=["websocket"],
    )
    app = App(
        settings=settings,
        server=server,
        socketio=socketio,
        engine=engine,
        redis=runtime.connect(redis_url),
        redis_url=redis_url,
        catalogue=rules.catalogue,
        store=Store(engine, rules),
        accounts=Accounts(sessionmaker(engine, expire_on_commit=False)),
        walls=load_walls(settings.walls_file or None),
    )
    _register(app)
    return app


def _register(app: App) -> None:
    # Imported here: the views need the App, and the App module stays importable alone.
    from dashboard import api, guard, health, push
    from layouts import desk, tablet, wall

    guard.register(app)
    health.register(app)
    api.register(app)
    push.register(app)
    wall.register(app)
    desk.register(app)
    tablet.register(app)
