"""Serve the web app with gunicorn's threaded worker.

Threaded workers fit Flask-SocketIO's threading mode: each websocket holds a thread,
so `threads` bounds the screens one worker serves. Several workers (or machines)
need no sticky sessions because browsers use the websocket transport only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from dashboard.settings import Settings


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, load: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load, self._options = load, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


def wsgi(settings: Settings) -> Any:
    """The WSGI application for the settings (built in the worker, after the fork)."""
    from dashboard.app import create_app

    return create_app(settings).server


def serve(settings: Settings, workers: int = 1, threads: int = 100) -> None:
    """Run the web server until it is told to stop."""
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "graceful_timeout": 5,
        "accesslog": None,
        "loglevel": "warning",
    }
    _Server(lambda: wsgi(settings), options).run()
