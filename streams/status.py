"""The active consumer's heartbeat in Redis, and the note of a lost stream.

The active consumer writes its status at least once a second with an expiry of a few
leases; /healthz reads it. No status means no worker is consuming; a status whose
progress is old means the worker is alive but stuck.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

from streams.names import heard_key, lost_key, status_key

HEARD_TTL_S = 7 * 86_400


@dataclass
class Status:
    """What the active consumer says about itself."""

    consumer: str
    at: float = 0.0  # when it last wrote this (epoch seconds)
    progress_at: float = 0.0  # when a step last finished (caught up or handled a batch)
    handled: int = 0  # entries handled since it became active
    set_aside: int = 0  # of which set aside as dead letters
    failing_since: float | None = None
    error: str | None = None


def write_status(
    connection: redis.Redis, stream: str, group: str, status: Status, ttl_ms: int
) -> None:
    """Publish the status; it expires unless written again."""
    status.at = time.time()
    heard = {"consumer": status.consumer, "at": status.at}
    pipe = connection.pipeline(transaction=False)
    pipe.set(status_key(stream, group), json.dumps(asdict(status)), px=ttl_ms)
    pipe.set(heard_key(stream, group), json.dumps(heard), ex=HEARD_TTL_S)
    pipe.execute()


def read_status(connection: redis.Redis, stream: str, group: str) -> dict[str, Any] | None:
    """The active consumer's last status, or None when none is alive."""
    raw = connection.get(status_key(stream, group))
    return None if raw is None else dict(json.loads(raw))


def read_heard(connection: redis.Redis, stream: str, group: str) -> dict[str, Any] | None:
    """Who last wrote a heartbeat and when (epoch seconds), even if it died since."""
    raw = connection.get(heard_key(stream, group))
    return None if raw is None else dict(json.loads(raw))


def note_lost(connection: redis.Redis, stream: str, group: str, note: dict[str, Any]) -> None:
    """Record (for a day) that the stream or group was lost and where ingest resumed."""
    connection.set(lost_key(stream, group), json.dumps(note), ex=86_400)


def read_lost(connection: redis.Redis, stream: str, group: str) -> dict[str, Any] | None:
    """The last note of a lost stream or group, if any in the last day."""
    raw = connection.get(lost_key(stream, group))
    return None if raw is None else dict(json.loads(raw))
