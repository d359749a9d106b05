"""The web side of live push: who may connect, and screens whose token is revoked.

A wall screen's token can be revoked from anywhere (CLI, another web process, the
database itself), so each web process re-checks the tokens of its connected screens
every few seconds and tells a revoked one so, instead of waiting for a reload.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request, session

from dashboard.web.context import App
from dashboard.web.guard import viewer
from streams.names import Push

log = logging.getLogger(__name__)


class Screens:
    """The display screens connected to this process, by Socket.IO session id."""

    def __init__(self, app: App, interval: float = 3.0) -> None:
        self.app, self.interval = app, interval
        self.tokens: dict[str, int] = {}
        self._lock = threading.Lock()
        self._watching = False

    def add(self, sid: str, token_id: int) -> None:
        """Remember a screen; start watching tokens on the first one."""
        with self._lock:
            self.tokens[sid] = token_id
            start, self._watching = not self._watching, True
        if start:
            self.app.socketio.start_background_task(self._watch)

    def remove(self, sid: str) -> None:
        """Forget a screen that went away."""
        with self._lock:
            self.tokens.pop(sid, None)

    def _watch(self) -> None:
        while True:
            self.app.socketio.sleep(self.interval)
            try:
                self.check()
            except Exception:  # the watcher must outlive a database hiccup
                log.exception("Screens: token check failed")

    def check(self) -> int:
        """Tell screens with revoked tokens and drop them; how many were dropped."""
        with self._lock:
            current = dict(self.tokens)
        active = self.app.accounts.active_tokens(set(current.values()))
        dropped = [sid for sid, token in current.items() if token not in active]
        for sid in dropped:
            log.info("Screens: token of %s revoked; disconnecting", sid)
            self.app.socketio.emit(Push.REVOKED.value, {}, to=sid)
            self.app.socketio.server.disconnect(sid)
            self.remove(sid)
        return len(dropped)


def register(app: App) -> Screens:
    """Accept a Socket.IO connection only from a signed-in user or an active display."""
    screens = Screens(app)

    @app.socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        who = viewer(app)
        if who is None:
            log.info("Push: refused a connection without a valid session")
            return False
        if "display" in who:
            screens.add(request.sid, session["display_token"])  # type: ignore[attr-defined]
        return True

    @app.socketio.on("disconnect")
    def disconnect(*_: Any) -> None:
        screens.remove(request.sid)  # type: ignore[attr-defined]

    return screens
