"""The dead-letter stream: what was set aside and why, and replay after a fix.

Writing a dead letter cannot fail on odd bytes: the original payload is kept exactly,
as UTF-8 text when it is, else base64 (field `encoding`); every other field is made
encodable first. Replay puts the original payload back on the case stream and
removes the dead letter in one MULTI; the unique event_id makes a replay of an event
that did get applied meanwhile harmless.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from streams.names import EVENT_FIELD, dead_letter_key

BASE64 = "base64"
UTF8 = "utf-8"


@dataclass(frozen=True)
class DeadLetter:
    """One entry set aside, with why."""

    id: str
    reason: str
    event: str
    stream_id: str
    event_id: str
    failed_at: str
    encoding: str = UTF8

    def payload(self) -> bytes:
        """The original `event` field, byte for byte."""
        if self.encoding == BASE64:
            return base64.b64decode(self.event)
        return self.event.encode("utf-8")


def safe_text(value: Any) -> str:
    """Text that encodes as UTF-8 whatever it held (lone surrogates escaped)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _payload(fields: Mapping[Any, Any]) -> tuple[str, str]:
    raw = fields.get(EVENT_FIELD, fields.get(EVENT_FIELD.encode()))
    if raw is None:
        return safe_text(repr(dict(fields))), UTF8
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    try:
        return bytes(raw).decode("utf-8"), UTF8
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), BASE64


def letter_fields(
    fields: Mapping[Any, Any], reason: str, stream_id: str, event_id: str | None, consumer: str
) -> dict[str, str]:
    """The fields of a dead letter for an entry; every value is storable."""
    event, encoding = _payload(fields)
    return {
        "reason": safe_text(reason),
        "stream_id": safe_text(stream_id),
        "event_id": safe_text(event_id or ""),
        EVENT_FIELD: event,
        "encoding": encoding,
        "consumer": safe_text(consumer),
        "failed_at": datetime.now(UTC).isoformat(),
    }


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
        encoding=got.get("encoding", UTF8),
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
        pipe.xadd(stream, {EVENT_FIELD: letter.payload()})
        pipe.xdel(dead_letter_key(stream), letter.id)
        pipe.execute()
        replayed += 1
    return replayed
