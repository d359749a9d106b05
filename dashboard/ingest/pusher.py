"""Live push: tell browsers what changed, through the Socket.IO message queue.

The ingest worker never imports the web app. It holds a write-only Socket.IO
manager on the same Redis channel the web servers listen on (python-socketio's
`write_only` manager), and every web process relays what it hears to its screens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
import socketio

from dashboard.store.models import Case
from dashboard.store.snapshot import case_summary
from streams.names import Push, push_channel, push_sequence_key
from streams.sequence import Sequence

log = logging.getLogger(__name__)

WALLS_ROOM = "walls"


class Pusher:
    """Emits changes to every connected screen from outside the web process."""

    def __init__(self, redis_url: str, stream: str) -> None:
        # The channel and count are the stream's own: cities sharing a Redis stay apart.
        channel = push_channel(stream)
        self.manager = socketio.RedisManager(redis_url, channel=channel, write_only=True)
        self.channel = channel
        # Every push is numbered, so that a screen that misses one knows it.
        connection = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        self.sequence = Sequence(connection, push_sequence_key(stream))

    def emit(self, event: Push, data: Any, room: str | None = None) -> None:
        """Send one event to all screens (or one room), with the next sequence number."""
        # The message python-socketio's PubSubManager.emit publishes, numbered and
        # published in one step (a Redis error raises: the caller keeps the changes).
        envelope = {"method": "emit", "event": event.value, "binary": False, "namespace": "/",
                    "room": room, "skip_sid": None, "callback": None,
                    "host_id": self.manager.host_id}  # fmt: skip
        self.sequence.publish(self.channel, envelope, data)

    def cases(self, cases: Iterable[Case], server_ms: int) -> None:
        """Push changed cases."""
        self.emit(Push.CASES, {"cases": [case_summary(case) for case in cases], "now": server_ms})

    def kpis(self, strip: dict[str, Any], server_ms: int, units: dict[str, Any] | None) -> None:
        """Push the KPI strip and, when refreshed, the units' rates."""
        message: dict[str, Any] = {"kpis": strip, "now": server_ms}
        if units is not None:
            message["units"] = units
        self.emit(Push.KPIS, message)
