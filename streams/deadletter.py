"""The dead-letter stream: look at what was set aside, and replay it after a fix.

Replay puts the original payload back on the case stream and removes the dead
letter in one MULTI; the unique event_id makes a replay of an event that did get
applied meanwhile harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from streams.names import EVENT_FIELD, dead_letter_key


@dataclass(frozen=True)
class DeadLetter:
    """One entry set aside, with why."""

    id: str
    reason: str
    event: str
    stream_id: str
    event_id: str
    failed_at: str


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _letter(entry_id: Any, fields: Any) -> DeadLetter:
    got = {_text(k): _text(v) for k, v in fields.items()}
    return DeadLetter(
        id=_text(entry_id),
        reason=got.get("reason", ""),
        event=got.get(EVENT_FIELD, ""),
        stream_id=got.get("stream_id", ""),
        event_id=got.get("event_id", ""),
        failed_at=got.get("failed_at", ""),
    )


def dead_letters(connection: redis.Redis, stream: str, count: int = 100) -> list[DeadLetter]:
    """The oldest dead letters of a stream, up to `count`."""
    entries: Any = connection.xrange(dead_letter_key(stream), count=count)
    return [_letter(entry_id, fields) for entry_id, fields in entries]


def replay(connection: redis.Redis, stream: str, ids: Iterable[str] | None = None) -> int:
    """Put dead letters (all, or those named) back on the stream; how many."""
    wanted = set(ids) if ids is not None else None
    replayed = 0
    for letter in dead_letters(connection, stream, count=1_000_000):
        if wanted is not None and letter.id not in wanted:
            continue
        pipe = connection.pipeline(transaction=True)
        pipe.xadd(stream, {EVENT_FIELD: letter.event})
        pipe.xdel(dead_letter_key(stream), letter.id)
        pipe.execute()
        replayed += 1
    return replayed
