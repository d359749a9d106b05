"""A Redis stream consumer that never loses an entry and never stops on one.

Reads in batches through a consumer group, hands valid events to a handler that
applies them in one transaction, and acknowledges only after the handler returns.
Entries that break the contract, or that the handler rejects, go to the dead-letter
stream together with their acknowledgement (one MULTI), with the reason. Entries left
pending by a dead consumer are reclaimed with XAUTOCLAIM. Redis or database outages
back off (doubling up to a cap, with full jitter) and retry the same entries.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from streams.names import EVENT_FIELD, dead_letter_key
from streams.schema import ContractError, Event, parse_entry

log = logging.getLogger(__name__)

Fields = Mapping[Any, Any]


@dataclass(frozen=True)
class Item:
    """One valid event read from the stream, with the entry id it came from."""

    stream_id: str
    event: Event
    fields: Fields = field(default_factory=dict, compare=False, repr=False)

    def reject(self, reason: str) -> Rejection:
        """This entry set aside for the dead letters, with the original payload."""
        return Rejection(self.stream_id, self.fields, reason, self.event.event_id)


@dataclass(frozen=True)
class Rejection:
    """An entry set aside for the dead-letter stream, and why."""

    stream_id: str
    fields: Fields
    reason: str
    event_id: str | None = None


@dataclass
class Handled:
    """What the handler did with a batch: the rejections go to the dead letters."""

    rejected: list[Rejection] = field(default_factory=list)


Handler = Callable[[Sequence[Item]], Handled]


class Outage(Exception):
    """Raised by a handler when its database is unreachable: retry later."""


@dataclass
class Backoff:
    """Doubling delays up to a cap, with full jitter so many workers spread out."""

    first: float = 0.1
    cap: float = 30.0
    failures: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt after one more failure."""
        self.failures += 1
        return random.uniform(0, min(self.cap, self.first * 2 ** (self.failures - 1)))

    def reset(self) -> None:
        """Forget past failures after a success."""
        self.failures = 0


class Consumer:
    """One member of a consumer group on one stream."""

    def __init__(
        self,
        connection: redis.Redis,
        stream: str,
        group: str,
        name: str,
        handler: Handler,
        *,
        count: int = 500,
        block_ms: int = 100,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.redis, self.stream, self.group, self.name = connection, stream, group, name
        self.handler = handler
        self.count, self.block_ms, self.claim_idle_ms = count, block_ms, claim_idle_ms
        self.dead_letters = dead_letter_key(stream)
        self.backoff = Backoff()
        # Our own pending entries first (a restart under the same name), then new ones.
        self._cursor = "0"
        self._claim_from = "0-0"
        self._last_claim = 0.0

    def ensure_group(self) -> None:
        """Create the group (and stream) if missing; an existing group is kept."""
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def run(self, stop: threading.Event, after_step: Callable[[], None] | None = None) -> None:
        """Consume until `stop` is set, surviving outages and bad entries."""
        while not stop.is_set():
            try:
                self.step()
                self.backoff.reset()
                if after_step is not None:
                    after_step()
            except (redis.ConnectionError, redis.TimeoutError, Outage) as error:
                self._retry_own_backlog()
                delay = self.backoff.next_delay()
                log.warning("Consumer %s: %s; retrying in %.1fs", self.name, error, delay)
                stop.wait(delay)
            except Exception:
                # A bug must not stop the service: nothing was acknowledged, so the
                # batch is read again after the pause (and is in the log meanwhile).
                self._retry_own_backlog()
                delay = self.backoff.next_delay()
                log.exception("Consumer %s: unexpected error; retrying in %.1fs", self.name, delay)
                stop.wait(delay)

    def _retry_own_backlog(self) -> None:
        # What failed is still pending under our name; read it again before anything
        # newer, so a case's events keep their order.
        self._cursor = "0"

    def step(self) -> int:
        """Read, apply and acknowledge one batch; the number of entries handled."""
        entries = self._claim() if self._claim_due() else []
        if not entries:
            entries = self._read()
        if entries:
            self._handle(entries)
        return len(entries)

    def _claim_due(self) -> bool:
        return time.monotonic() - self._last_claim >= self.claim_idle_ms / 1000 / 2

    def _claim(self) -> list[tuple[str, Fields]]:
        """Entries another consumer left pending for too long (it likely died)."""
        reply = self.redis.xautoclaim(
            self.stream, self.group, self.name, self.claim_idle_ms, self._claim_from, self.count
        )
        self._claim_from = _text(reply[0])
        if self._claim_from == "0-0":
            self._last_claim = time.monotonic()
        if reply[1]:
            log.info("Consumer %s: reclaimed %d pending entries", self.name, len(reply[1]))
        return [(_text(i), f) for i, f in reply[1] if f is not None]

    def _read(self) -> list[tuple[str, Fields]]:
        entries = self._read_from(self._cursor)
        if not entries and self._cursor == "0":
            self._cursor = ">"  # our own backlog is done; from now on new entries
            entries = self._read_from(self._cursor)
        return entries

    def _read_from(self, cursor: str) -> list[tuple[str, Fields]]:
        reply: Any = self.redis.xreadgroup(
            self.group,
            self.name,
            {self.stream: cursor},
            count=self.count,
            block=None if cursor == "0" else self.block_ms,
        )
        # A deleted entry still pending comes back with no fields; it fails the contract.
        return [(_text(i), f or {}) for _, batch in reply or [] for i, f in batch]

    def _handle(self, entries: Sequence[tuple[str, Fields]]) -> None:
        items, rejected = [], []
        for stream_id, fields in entries:
            try:
                items.append(Item(stream_id, parse_entry(fields), fields))
            except ContractError as error:
                rejected.append(Rejection(stream_id, fields, f"contract: {error}"))
        if items:
            rejected += self.handler(items).rejected
        self._acknowledge(entries, rejected)

    def _acknowledge(
        self, entries: Sequence[tuple[str, Fields]], rejected: Sequence[Rejection]
    ) -> None:
        # The dead letters and the acks land together or not at all (one MULTI).
        pipe = self.redis.pipeline(transaction=True)
        for rejection in rejected:
            log.warning(
                "Consumer %s: entry %s (event %s) set aside: %s",
                self.name,
                rejection.stream_id,
                rejection.event_id,
                rejection.reason,
            )
            pipe.xadd(self.dead_letters, self._dead_letter(rejection))
        pipe.xack(self.stream, self.group, *[stream_id for stream_id, _ in entries])
        pipe.execute()

    def _dead_letter(self, rejection: Rejection) -> dict[Any, Any]:
        raw = rejection.fields.get(EVENT_FIELD, rejection.fields.get(EVENT_FIELD.encode()))
        return {
            "reason": rejection.reason,
            "stream_id": rejection.stream_id,
            "event_id": rejection.event_id or "",
            EVENT_FIELD: _text(raw) if raw is not None else repr(dict(rejection.fields)),
            "consumer": self.name,
            "failed_at": datetime.now(UTC).isoformat(),
        }


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def lag(connection: redis.Redis, stream: str, group: str, cap: int = 10_000) -> dict[str, int]:
    """Entries not yet delivered to the group, and delivered but not acknowledged.

    Redis 7 reports `lag` itself; 6.2 (the embedded server) does not, so the entries
    after the group's last delivered id are counted, up to `cap`.
    """
    try:
        groups = connection.xinfo_groups(stream)
    except redis.ResponseError:
        return {"undelivered": 0, "pending": 0}
    info = next((g for g in groups if _text(g["name"]) == group), None)
    if info is None:
        return {"undelivered": connection.xlen(stream), "pending": 0}
    undelivered = info.get("lag")
    if undelivered is None:
        start = "(" + _text(info["last-delivered-id"])
        after: Any = connection.xrange(stream, min=start, count=cap)
        undelivered = len(after)
    return {"undelivered": int(undelivered), "pending": int(info["pending"])}
