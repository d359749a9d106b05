"""Publish case events to the stream, as any upstream system would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from streams.names import (
    AFTER_FIELD,
    DEFAULT_STREAM,
    EVENT_FIELD,
    LANE_TYPES,
    EventType,
    lane_key,
)
from streams.schema import ContractError, validate


def new_event(
    type: EventType | str, case_id: str | None = None, at: datetime | None = None, **fields: Any
) -> dict[str, Any]:
    """A contract-v1 event with a fresh event_id, stamped now unless `at` is given."""
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "type": str(type),
        "at": (at or datetime.now(UTC)).isoformat(),
    }
    if case_id is not None:
        event["case_id"] = case_id
    event.update({k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()})
    return event


# The lane entry carries the stream's last entry id, read in the same atomic step, so
# the worker knows exactly which stream entries were published before it.
_PUBLISH_LANE = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local after = '0-0'
if last[1] then after = last[1][1] end
return redis.call('XADD', KEYS[2], '*', ARGV[1], ARGV[2], ARGV[3], after)
"""


class Producer:
    """Appends events to one stream; it never trims (the ingest worker owns that)."""

    def __init__(self, connection: redis.Redis, stream: str = DEFAULT_STREAM) -> None:
        self.redis = connection
        self.stream = stream
        self.lane = lane_key(stream)

    def publish(self, event: Mapping[str, Any]) -> str:
        """Append one event; the entry id it got."""
        entry_id = self.redis.xadd(self.stream, {EVENT_FIELD: _encode(event)})
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def publish_lane(self, event: Mapping[str, Any]) -> str:
        """Append one event to the emergency lane, ahead of the stream's backlog.

        Only LANE_TYPES belong there (the worker sets anything else aside). A case's
        action still waits for the case's events published before it on the stream.
        """
        if event.get("type") not in LANE_TYPES:
            raise ValueError(f"{event.get('type')!r} does not ride the lane; publish() it")
        keys_and_args = [self.stream, self.lane, EVENT_FIELD, _encode(event), AFTER_FIELD]
        entry_id: Any = self.redis.eval(_PUBLISH_LANE, 2, *keys_and_args)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def publish_many(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Append many events in one round trip; how many were sent."""
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for event in events:
            pipe.xadd(self.stream, {EVENT_FIELD: _encode(event)})
            count += 1
        pipe.execute()
        return count

    def publish_raw(self, payload: str) -> str:
        """Append an entry whose `event` field is given as is (for tests of bad input)."""
        entry_id = self.redis.xadd(self.stream, {EVENT_FIELD: payload})
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def _encode(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)


def read_events(text: str) -> list[dict[str, Any]]:
    """Events from JSON text (one object per line, or one array), checked by the contract.

    Raises ValueError naming the first event that is not JSON or breaks the contract,
    so nothing is published from a half-wrong file.
    """
    stripped = text.strip()
    try:
        if stripped.startswith("["):
            bodies = json.loads(stripped)
        else:
            bodies = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    for number, body in enumerate(bodies, 1):
        if not isinstance(body, dict):
            raise ValueError(f"event {number}: not a JSON object")
        try:
            validate(body)
        except ContractError as error:
            raise ValueError(f"event {number} ({body.get('event_id')}): {error}") from None
    return bodies
