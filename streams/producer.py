"""Publish case events to the stream, as any upstream system would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from streams.names import DEFAULT_STREAM, EVENT_FIELD, EventType
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


class Producer:
    """Appends events to one stream; it never trims (the ingest worker owns that)."""

    def __init__(self, connection: redis.Redis, stream: str = DEFAULT_STREAM) -> None:
        self.redis = connection
        self.stream = stream

    def publish(self, event: Mapping[str, Any]) -> str:
        """Append one event; the entry id it got."""
        entry_id = self.redis.xadd(self.stream, {EVENT_FIELD: _encode(event)})
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
