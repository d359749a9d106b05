"""Serve the web app with gunicorn's gevent worker.

Every open screen is a websocket that never ends. With threaded workers each one
held one of the worker's threads for its whole life, so 100 screens took every
thread and the 101st request (a page load, /healthz) waited for ever. Under gevent
a connection is a greenlet: `connections` (not threads) bounds the screens one
worker holds, and HTTP requests are served between their frames. Flask-SocketIO
supports gevent with simple-websocket (no gevent-websocket needed); psycopg 3 and
redis-py cooperate with gevent's patched sockets by themselves. Several workers (or
machines) need no sticky sessions because browsers use the websocket transport only.

An open websocket is a request that never ends: on shutdown the worker closes
every screen's connection first (screens reconnect by themselves), or gunicorn
would wait out its graceful timeout and then SIGKILL the worker.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from dashboard.app import create_app
from dashboard.settings import Settings
from dashboard.store.db import init_db, make_engine
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
    if app.warm is not None:  # read the screens' snapshot before the first screen asks
        app.socketio.start_background_task(app.warm.prepare)
    return app.server


def close_screens() -> None:
    """Close every open Socket.IO connection of this worker, without waiting."""
    for app in _built:
        for socket in list(app.socketio.server.eio.sockets.values()):
            socket.close(wait=False, abort=True)


def _post_fork(server: Any, worker: Any) -> None:
    # The gevent worker patches the standard library right after this, in a process
    # that has imported ssl already (redis-py and urllib3 do on import). gevent warns
    # of modules that took names from ssl directly: redis.asyncio and urllib3, which
    # the web process never uses (its Redis client is redis-py's synchronous one,
    # which looks ssl up at each connection, after the patch).
    warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl", module="gunicorn")


def _post_worker_init(worker: Any) -> None:
    # Every way of stopping a worker becomes one: close the websockets first (screens
    # reconnect by themselves), then end the worker's loop, which lets the requests
    # still running finish. SIGTERM is gunicorn's graceful stop. SIGINT and SIGQUIT
    # (Ctrl-C; the master passes it on as SIGQUIT) would otherwise exit from a
    # greenlet with SystemExit, which gevent reports as a failure with a traceback;
    # the loop ends within a second, well inside the master's graceful timeout.
    def handle_exit(sig: int, frame: Any) -> None:
        close_screens()
        worker.alive = False

    for stop in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(stop, handle_exit)


def _child_exit(server: Any, worker: Any) -> None:
    # A dead worker's screens are gone: its live gauges leave the multiprocess sums.
    multiprocess.mark_process_dead(worker.pid)


def serve(settings: Settings, workers: int = 1, connections: int = 2000) -> None:
    """Run the web server until it is told to stop."""
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": connections,
        "graceful_timeout": 5,
        "accesslog": None,
        "loglevel": "warning",
        "post_fork": _post_fork,
        "post_worker_init": _post_worker_init,
        "child_exit": _child_exit,
    }
    # The schema is settled once, before the fork: an older one stops the start in one
    # line instead of a traceback per worker, and the workers find it at the head.
    engine = make_engine(settings.resolved_database_url)
    init_db(engine, upgrade=settings.db_upgrade)
    engine.dispose()
    _Server(lambda: wsgi(settings), options).run()
