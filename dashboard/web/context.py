"""The context every view receives: settings, connections, Flask and Socket.IO.

`dashboard.app.create_app` builds it; the web layer and the pages take it as an
argument and never import the module that builds the app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import Engine

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.walls import Walls
from dashboard.settings import Settings
from dashboard.store.accounts import Accounts
from dashboard.store.apikeys import ApiKeys
from dashboard.store.batch import Store
from dashboard.store.logins import Logins
from dashboard.web.warm import WarmSnapshot


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
    logins: Logins
    apikeys: ApiKeys
    walls: Walls
    # Screens reload when the pages' build changes (an upgrade reaches every screen).
    build: str
    # The screens' snapshot, kept current from the pushes (create_app makes it).
    warm: WarmSnapshot | None = None

    @property
    def timezone(self) -> str:
        """The city's time zone."""
        return self.catalogue.timezone


# (methods, rule, view): a view takes the App first, then the rule's arguments.
Routes = tuple[tuple[tuple[str, ...], str, Callable[..., Any]], ...]


def add_routes(app: App, routes: Routes) -> None:
    """Register a route table on the app's Flask server."""
    for methods, rule, view in routes:
        endpoint = f"{view.__module__}.{view.__name__}"
        # Named like the view: Flask-Limiter (and logs) look views up by their name.
        view_func = functools.update_wrapper(functools.partial(view, app), view)
        app.server.add_url_rule(rule, endpoint=endpoint, view_func=view_func, methods=methods)
