"""The web side of live push: who may connect, and connections whose session ended.

A wall's token can be revoked, a user disabled or signed out, from anywhere (CLI,
another web process, the database itself), so each web process re-checks the
sessions of its open connections every few seconds and cuts the ended ones, after
telling them so, instead of waiting for a reload.

Pushes published while this process's message-queue listener was cut off from Redis
are lost to its screens; so when the listener subscribes again it tells every screen
of this process to resync from a snapshot (`ResyncingRedisManager`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import socketio
from flask import request

from dashboard.domain.access import Permission, allowed
from dashboard.store.audit import Result, record
from dashboard.web import auth
from dashboard.web.context import App
from dashboard.web.metrics import ScreenCount, view_of
from dashboard.web.warm import WarmSnapshot
from streams.names import Push

log = logging.getLogger(__name__)


class ResyncingRedisManager(socketio.RedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager that makes its screens resync after a reconnect
    and keeps this process's warm snapshot (dashboard.web.warm) in step.

    `_redis_listen_with_retries` is python-socketio's own loop, with these changes: a
    re-subscription emits RESYNC to this process's clients (only), retries wait at most
    5 s (with jitter) instead of 60, so screens are back soon after Redis, and the warm
    snapshot hears of every (re)subscription, cut-off and push.
    """

    warm: WarmSnapshot | None = None

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # Subscription confirmations are wanted (the warm snapshot waits for one);
        # python-socketio's _listen passes on only the channel's messages anyway.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        retry_sleep, subscribed, cut_off = 0.5, False, False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, retry_sleep = True, 0.5
                    if cut_off:
                        self._resync_screens()
                for message in self.pubsub.listen():
                    # Redis confirms the subscription before any message published after it.
                    if message.get("type") == "subscribe" and self.warm is not None:
                        self.warm.subscribed()
                    yield message
            except Exception as error:  # what python-socketio catches here, too
                log.warning("Push: message queue lost (%s); retry in %.1fs", error, retry_sleep)
                if self.warm is not None:
                    self.warm.lost()
                subscribed, cut_off = False, True
                time.sleep(retry_sleep * random.uniform(0.5, 1.0))
                retry_sleep = min(retry_sleep * 2, 5.0)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if self.warm is not None:
            data = message.get("data")
            self.warm.take(message.get("event", ""), data[0] if isinstance(data, list) else data)
        super()._handle_emit(message)

    def _resync_screens(self) -> None:
        log.warning("Push: message queue back; telling this process's screens to resync")
        reason = {"reason": "message queue reconnected"}
        self.emit(Push.RESYNC.value, reason, namespace="/", ignore_queue=True)


def start_listening(app: App) -> None:
    """Start this process's message-queue listener now, not at the first connection
    (python-socketio's own moment), for the warm snapshot that follows it."""
    server = app.socketio.server
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()


class Screens:
    """The connections to this process (walls and people), by Socket.IO session id."""

    def __init__(self, app: App, interval: float = 3.0) -> None:
        self.app, self.interval = app, interval
        self.tokens: dict[str, str] = {}  # sid -> the server-side session's key hash
        self._lock = threading.Lock()
        self._watching = False

    def add(self, sid: str, key_hash: str) -> None:
        """Remember a connection; start watching sessions on the first one."""
        with self._lock:
            self.tokens[sid] = key_hash
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
                log.exception("Screens: session check failed")

    def check(self) -> int:
        """Tell connections whose session ended and drop them; how many were dropped."""
        with self._lock:
            current = dict(self.tokens)
        alive = self.app.logins.alive(set(current.values()))
        dropped = [sid for sid, key in current.items() if key not in alive]
        for sid in dropped:
            log.info("Screens: session of %s ended; disconnecting", sid)
            self.app.socketio.emit(Push.REVOKED.value, {}, to=sid)
            self.app.socketio.server.disconnect(sid)
            self.remove(sid)
        return len(dropped)


def register(app: App) -> Screens:
    """Accept a Socket.IO connection only from a session that may view the wall."""
    screens, count = Screens(app), ScreenCount()

    @app.socketio.on("connect")
    def connect(hello: Any = None) -> bool:
        who = auth.principal()
        ok = who is not None and not who.must_change_password
        if who is None or not ok or not allowed(who.role, Permission.VIEW_WALL):
            log.info("Push: refused a connection from %s", who.name if who else "nobody")
            return False
        screens.add(request.sid, who.key_hash)  # type: ignore[attr-defined]
        # The page says which view it is (live.js's auth); for the metrics only.
        view = hello.get("view") if isinstance(hello, dict) else None
        count.connected(request.sid, view_of(view))  # type: ignore[attr-defined]
        return True

    @app.socketio.on("disconnect")
    def disconnect(*_: Any) -> None:
        screens.remove(request.sid)  # type: ignore[attr-defined]
        count.gone(request.sid)  # type: ignore[attr-defined]
        refused.discard(request.sid)  # type: ignore[attr-defined]

    # Screens only listen: every action goes through HTTP (dashboard.web.actions), where
    # it is checked and audited. Whatever a client sends here is refused; the first
    # refusal per connection is audited (not every one: a loop must not flood the log).
    refused: set[str] = set()

    @app.socketio.on("*")
    def refuse(event: str, *_: Any) -> dict[str, str]:
        sid = request.sid  # type: ignore[attr-defined]
        if sid not in refused:
            refused.add(sid)
            found = auth.principal()
            who = f"{found.kind}:{found.name}" if found else None
            with app.store.sessions.begin() as db:
                record(db, who, "socket.refused", Result.REFUSED, auth.address(),
                       event=str(event)[:64])  # fmt: skip
        return {"error": "screens only listen; act through POST /api/cases/<id>/<action>"}

    return screens
