"""Serve the web app with gunicorn's threaded worker.

Threaded workers fit Flask-SocketIO's threading mode: each websocket holds a thread,
so `threads` bounds the screens one worker serves. Several workers (or machines)
need no sticky sessions because browsers use the websocket transport only.

An open websocket is a request that never ends: on shutdown the worker closes
every screen's connection first (screens reconnect by themselves), or gunicorn
would wait out its graceful timeout and then SIGKILL the worker.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from dashboard.app import create_app
from dashboard.settings import Settings
from dashboard.web.context import App


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, load: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load, self._options = load, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


_built: list[App] = []  # the app of this worker process, for the shutdown hooks


def wsgi(settings: Settings) -> Any:
    """The WSGI application for the settings (built in the worker, after the fork)."""
    app = create_app(settings)
    _built.append(app)
    return app.server


def close_screens() -> None:
    """Close every open Socket.IO connection of this worker, without waiting."""
    for app in _built:
        for socket in list(app.socketio.server.eio.sockets.values()):
            socket.close(wait=False, abort=True)


def _post_worker_init(worker: Any) -> None:
    # SIGTERM (graceful stop) ends the worker's loop, then gunicorn waits for every
    # request: close the websockets first so that wait is short.
    def handle_exit(sig: int, frame: Any) -> None:
        close_screens()
        worker.alive = False

    signal.signal(signal.SIGTERM, handle_exit)


def _worker_int(worker: Any) -> None:
    # SIGINT/SIGQUIT (Ctrl-C, quick stop): the worker exits at once, but its threads
    # would keep the process alive while their websockets stay open. The master
    # passes Ctrl-C on as SIGQUIT: a second signal arriving while a screen's
    # disconnect handler runs would exit from inside it, so further ones are ignored
    # (gunicorn exits right after this hook).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    close_screens()


def _child_exit(server: Any, worker: Any) -> None:
    # A dead worker's screens are gone: its live gauges leave the multiprocess sums.
    multiprocess.mark_process_dead(worker.pid)


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
        "post_worker_init": _post_worker_init,
        "worker_int": _worker_int,
        "child_exit": _child_exit,
    }
    _Server(lambda: wsgi(settings), options).run()
