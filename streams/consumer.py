"""A Redis stream consumer that never loses an entry and never stops on one.

One consumer of a group is active at a time: it holds the group's lease (see
`streams.lease`); the others stand by and take over within a lease of its death.
On becoming active it first claims everything pending in the group, whoever it was
delivered to, and applies it in stream order; only then does it read new entries.
So a case's events keep their order across restarts, whatever the names.

Batches go to a handler that applies them in one transaction; entries are
acknowledged only after it returns, together with their dead letters (one MULTI).
Any failure of one entry sets it aside with a reason: a contract error at parsing,
an exception of the handler (the batch is bisected until only the bad entry is left),
or too many deliveries (poison). Redis or database outages back off (doubling up to
a cap, with full jitter, the lease renewed meanwhile) and retry the same entries.
A lost group (NOGROUP: Redis restarted without persistence) is created again from
the start of whatever stream exists, and said so loudly.

The emergency lane (`streams.lane`) is read in the same call, before the stream, and
its entries are applied at once unless an earlier stream entry of the same case (or
an earlier emergency event) is still to apply: then the stream's batch is cut right
after that entry and the lane entry goes in between. Lease, takeover, poison, dead
letters and NOGROUP work the same on the lane.
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

from streams.deadletter import letter_fields
from streams.lane import Lane
from streams.lease import Lease
from streams.names import (
    EVENT_FIELD,
    LANE_TYPES,
    dead_letter_key,
    failures_key,
    lane_key,
    lease_key,
)
from streams.schema import ContractError, Event, Window, parse_entry
from streams.status import Status, note_lost, write_status

log = logging.getLogger(__name__)

Fields = Mapping[Any, Any]
Entry = tuple[str, Fields]
TRANSIENT = (redis.ConnectionError, redis.TimeoutError)


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
        lease_ms: int = 5_000,
        max_deliveries: int = 10,
        window: Window | None = None,
        gather_ms: int = 100,
        on_active: Callable[[], None] | None = None,
        on_lane: Callable[[], None] | None = None,
    ) -> None:
        self.redis, self.stream, self.group, self.name = connection, stream, group, name
        self.handler = handler
        self.count, self.block_ms, self.max_deliveries = count, block_ms, max_deliveries
        # A blocking read returns on the first entry: at 200 events/s nearly every
        # event was a batch of its own, and a batch's fixed costs are most of its
        # CPU (issue 14). Waiting this long for more first costs no CPU; it is the
        # push's coalescing window, so screens see changes about as soon, and the
        # wait ends at once when the lane brings an entry.
        self.gather_s = gather_ms / 1000
        # Called when the lease is newly ours: whatever the handler keeps between
        # batches may have been changed by another holder meanwhile.
        self.on_active = on_active
        # Called once lane entries are applied, before the stream's batch: their push
        # must not wait for it.
        self.on_lane = on_lane
        self.window = window or Window()
        self.dead_letters = dead_letter_key(stream)
        self.lease = Lease(connection, lease_key(stream, group), name, lease_ms)
        self.lane_stream = lane_key(stream)
        self.lane = Lane(connection, stream, group)
        self._lane_in: list[Entry] = []  # lane entries read, not yet checked
        self.backoff = Backoff()
        self.status = Status(consumer=name)
        self._status_ttl_ms = max(10_000, 3 * lease_ms)
        self._beaten = 0.0
        self.takeover()
        self._inflight: list[Entry] = []  # read, not acknowledged: retried as they are
        # Told of every entry set aside, once it is written (the worker's metrics).
        self.on_set_aside: Callable[[Sequence[Rejection]], None] | None = None
        self._lane_claimed = False

    def ensure_group(self) -> None:
        """Create the group (and stream, and lane) if missing; an existing one is kept."""
        for key in (self.stream, self.lane_stream):
            try:
                self.redis.xgroup_create(key, self.group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def takeover(self) -> None:
        """Claim and apply everything pending in the group before any new entry."""
        self._claiming, self._claim_from, self._claimed = True, "0-0", True
        self._lane_claiming, self._lane_in = True, []
        self.lane.reset()

    def run(self, stop: threading.Event, after_step: Callable[[], None] | None = None) -> None:
        """Consume while holding the lease, until `stop` is set; stand by otherwise."""
        try:
            while not stop.is_set():
                if self._active(stop):
                    self._attempt(stop, after_step)
        finally:
            self._release()

    def _active(self, stop: threading.Event) -> bool:
        try:
            held = self.lease.hold()
        except TRANSIENT as error:
            log.warning("Consumer %s: cannot reach Redis for the lease: %s", self.name, error)
            stop.wait(self.backoff.next_delay())
            return False
        if not held:
            self._inflight = []  # whoever holds the lease claims them
            self.takeover()  # the lane's too; done again should the lease come back
            stop.wait(self.lease.wait_s)
        elif self.lease.fresh:
            log.info("Consumer %s: active on %s; claiming what is pending", self.name, self.stream)
            self.status = Status(consumer=self.name)
            self.takeover()
            if self.on_active is not None:
                self.on_active()
        return held

    def _attempt(self, stop: threading.Event, after_step: Callable[[], None] | None) -> None:
        try:
            self.step()
            self.backoff.reset()
            if after_step is not None:
                after_step()
        except (*TRANSIENT, Outage) as error:
            # Kept in memory and tried again as they are: an outage is no delivery.
            self._failing(error)
            delay = self.backoff.next_delay()
            log.warning("Consumer %s: %s; retrying in %.1fs", self.name, error, delay)
            self._pause(stop, delay)
        except Exception as error:
            # Not an entry's fault (those are set aside in _handle): note the error for
            # the entries in hand, which are claimed again; too many times makes poison.
            log.exception("Consumer %s: unexpected error", self.name)
            self._failing(error)
            self._remember_failure(error)
            self._inflight = []
            self.takeover()
            self._pause(stop, self.backoff.next_delay())

    def _pause(self, stop: threading.Event, delay: float) -> None:
        # Keep the lease while waiting, so that the entries in hand stay ours.
        deadline = time.monotonic() + delay
        while not stop.is_set() and time.monotonic() < deadline:
            stop.wait(min(self.lease.wait_s, max(0.0, deadline - time.monotonic())))
            try:
                if not self.lease.hold():
                    return
                self.beat()  # alive and retrying: /healthz says stalled, not gone
            except TRANSIENT:
                pass  # Redis is down: nobody else can take the lease either

    def _release(self) -> None:
        try:
            self.lease.release()
        except TRANSIENT as error:
            log.warning("Consumer %s: could not release the lease: %s", self.name, error)

    def step(self) -> int:
        """Read, apply and acknowledge one batch; the number of entries handled."""
        try:
            entries = self._inflight or self._next()
            self._inflight = list(entries)
            handled = self._lane_step(caught_up=not entries and not self._claiming)
            if handled and self.on_lane is not None:
                self.on_lane()
            handled += self._handle_all()
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self._recreate_group()
            return 0
        self.status.progress_at = time.time()
        self.status.failing_since = self.status.error = None
        self.beat()
        return handled

    def _handle_all(self) -> int:
        # The stream's entries in order, cut wherever a lane entry waits for one of them.
        handled = 0
        while self._inflight:
            self.lane.before(self._inflight[0][0])
            handled += self._release_lane()
            part = self._inflight[: self.lane.cut(self._inflight)]
            self._handle(part)
            self._inflight = self._inflight[len(part) :]
            self.lane.passed(part[-1][0])
            handled += len(part)
        return handled + self._release_lane()

    def _lane_step(self, caught_up: bool) -> int:
        """Claim or take the lane's new entries, set aside the bad, apply the ready."""
        if self._lane_claiming:
            # What was just read is pending too: claimed once, in lane order.
            claimed = self._lane_claim()
            known = {stream_id for stream_id, _ in claimed}
            self._lane_in = claimed + [e for e in self._lane_in if e[0] not in known]
            self._lane_claiming = False
        if self._lane_in:
            entries = self._lane_in
            rejected = self._poison(self.lane_stream, entries) if self._lane_claimed else []
            items = [i for i in self._parse(entries, rejected) if self._in_lane(i, rejected)]
            bad = {r.stream_id for r in rejected}
            self._acknowledge(self.lane_stream, [e for e in entries if e[0] in bad], rejected)
            self._lane_in = [e for e in entries if e[0] not in bad]
            self.lane.admit(items)
            self._lane_in, self._lane_claimed = [], False
        if caught_up:
            self.lane.caught_up()
        return self._release_lane()

    def _in_lane(self, item: Item, rejected: list[Rejection]) -> bool:
        if item.event.type in LANE_TYPES:
            return True
        rejected.append(item.reject(
            f"lane: {item.event.type.value} does not ride the lane {self.lane_stream} "
            f"(only {', '.join(sorted(LANE_TYPES))}); publish it on {self.stream}"
        ))  # fmt: skip
        return False

    def _release_lane(self) -> int:
        ready = self.lane.ready()
        if not ready:
            return 0
        rejected = self._apply([w.item for w in ready])
        self._acknowledge(self.lane_stream, [w.entry for w in ready], rejected)
        self.lane.remove(ready)
        return len(ready)

    def _lane_claim(self) -> list[Entry]:
        """Everything pending in the lane, in order (what another holder had in hand)."""
        entries: list[Entry] = []
        start = "0-0"
        while True:
            reply: Any = self.redis.xautoclaim(
                self.lane_stream, self.group, self.name, 0, start, self.count
            )
            entries += [(_text(i), f or {}) for i, f in reply[1]]
            start = _text(reply[0])
            if start == "0-0":
                self._lane_claimed = bool(entries)
                return entries

    def _next(self) -> list[Entry]:
        self._claimed = self._claiming
        if self._claiming:
            entries = self._claim()
            if entries or self._claiming:
                return entries
            self._claimed = False
        return self._read_new()

    def _claim(self) -> list[Entry]:
        """Entries pending in the group, ours or a gone consumer's, in stream order."""
        reply: Any = self.redis.xautoclaim(
            self.stream, self.group, self.name, 0, self._claim_from, self.count
        )
        self._claim_from = _text(reply[0])
        self._claiming = self._claim_from != "0-0"
        # An entry deleted from the stream while pending comes back without fields
        # (Redis 6.2); it fails the contract and is acknowledged with a reason.
        entries = [(_text(i), f or {}) for i, f in reply[1]]
        if entries:
            log.info("Consumer %s: claimed %d pending entries", self.name, len(entries))
        return entries

    def _read_new(self) -> list[Entry]:
        entries = self._read(self.count, self.block_ms)
        trickle = entries and len(entries) < self.count and self.gather_s > 0
        if trickle and not self._lane_in and not _emergency_in(entries):
            # A live trickle: let more arrive, unless the lane has something.
            self._read(self.count, int(self.gather_s * 1000), lane_only=True)
            entries += self._read(self.count - len(entries), None)
        return entries

    def _read(self, count: int, block_ms: int | None, lane_only: bool = False) -> list[Entry]:
        """New entries of the stream; the lane's, read first, go to `_lane_in`."""
        streams: Any = (
            {self.lane_stream: ">"} if lane_only else {self.lane_stream: ">", self.stream: ">"}
        )
        reply: Any = self.redis.xreadgroup(
            self.group, self.name, streams, count=count, block=block_ms
        )
        entries: list[Entry] = []
        for key, batch in reply.items() if isinstance(reply, dict) else reply or []:
            got = [(_text(i), f or {}) for i, f in batch]
            if _text(key) == self.lane_stream:
                self._lane_in += got
            else:
                entries += got
        return entries

    def _handle(self, entries: Sequence[Entry]) -> None:
        # New entries (read with '>') are on their first delivery; only claimed ones
        # may be worn. Claims happen at takeover and after a failure: one XPENDING
        # per claimed batch costs nothing.
        rejected = self._poison(self.stream, entries) if self._claimed else []
        items = self._parse(entries, rejected)
        if items:
            rejected += self._apply(items)
        self._acknowledge(self.stream, entries, rejected)

    def _parse(self, entries: Sequence[Entry], rejected: list[Rejection]) -> list[Item]:
        """The valid events of these entries; the others join `rejected` with a reason."""
        poisoned = {r.stream_id for r in rejected}
        items = []
        for stream_id, fields in entries:
            if stream_id in poisoned:
                continue
            try:
                items.append(Item(stream_id, parse_entry(fields, self.window), fields))
            except ContractError as error:
                rejected.append(Rejection(stream_id, fields, f"contract: {error}"))
            except Exception as error:  # any entry, any bytes: never stall on one
                log.exception("Consumer %s: entry %s unreadable", self.name, stream_id)
                rejected.append(Rejection(stream_id, fields, f"unreadable: {_error(error)}"))
        return items

    def _apply(self, items: Sequence[Item]) -> list[Rejection]:
        """The handler's rejections; an error is narrowed down to the entry causing it."""
        try:
            return self.handler(items).rejected
        except (*TRANSIENT, Outage):
            raise
        except Exception as error:
            if len(items) == 1:
                log.exception("Consumer %s: event %s failed", self.name, items[0].event.event_id)
                return [items[0].reject(f"could not be applied: {_error(error)}")]
        half = len(items) // 2
        return self._apply(items[:half]) + self._apply(items[half:])

    def _poison(self, stream: str, entries: Sequence[Entry]) -> list[Rejection]:
        """Entries delivered too often already: set aside with their last error."""
        pending: Any = self.redis.xpending_range(
            stream, self.group, entries[0][0], entries[-1][0], len(entries)
        )
        counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        fields = dict(entries)
        worn = [i for i, n in counts.items() if n > self.max_deliveries and i in fields]
        errors: Any = self.redis.hmget(failures_key(stream, self.group), worn) if worn else []
        return [
            Rejection(
                stream_id,
                fields[stream_id],
                f"poison: delivered {counts[stream_id]} times without being acknowledged; "
                f"last error: {_text(error) if error else 'none recorded (the worker died?)'}",
            )
            for stream_id, error in zip(worn, errors, strict=True)
        ]

    def _remember_failure(self, error: BaseException) -> None:
        if not self._inflight:
            return
        key = failures_key(self.stream, self.group)
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(key, mapping={i: _error(error)[:500] for i, _ in self._inflight})
            pipe.expire(key, 86_400)
            pipe.execute()
        except TRANSIENT as failure:
            log.warning("Consumer %s: could not note the failure: %s", self.name, failure)

    def _acknowledge(
        self, stream: str, entries: Sequence[Entry], rejected: Sequence[Rejection]
    ) -> None:
        # The dead letters and the acks land together or not at all (one MULTI).
        pipe = self.redis.pipeline(transaction=True)
        for rejection in rejected:
            log.warning(
                "Consumer %s: entry %s (event %r) set aside: %s",
                self.name,
                rejection.stream_id,
                rejection.event_id,
                rejection.reason,
            )
            letter = self._dead_letter(rejection, stream)
            pipe.xadd(self.dead_letters, letter)  # type: ignore[arg-type]
        if entries:
            pipe.xack(stream, self.group, *[stream_id for stream_id, _ in entries])
        pipe.execute()
        self.status.handled += len(entries)
        self.status.set_aside += len(rejected)
        if rejected and self.on_set_aside is not None:
            self.on_set_aside(rejected)

    def _dead_letter(self, rejection: Rejection, stream: str) -> dict[str, str]:
        letter = letter_fields(
            rejection.fields, rejection.reason, rejection.stream_id, rejection.event_id, self.name
        )
        if stream != self.stream:
            letter["stream"] = stream  # its stream_id is the lane's
        return letter

    def _recreate_group(self) -> None:
        """The group is gone: create it again at the start of what the stream holds."""
        self._inflight = []
        first: Any = self.redis.xrange(self.stream, count=1)
        self.ensure_group()
        self.takeover()
        note = {
            "at": datetime.now(UTC).isoformat(),
            "consumer": self.name,
            "resumed_from": _text(first[0][0]) if first else "0-0",
            "entries": int(self.redis.xlen(self.stream)),
        }
        log.error(
            "Consumer %s: stream %s or its group %s was LOST (Redis restarted without "
            "persistence?); group created again, resuming from %s (%d entries in the stream)",
            self.name,
            self.stream,
            self.group,
            note["resumed_from"],
            note["entries"],
        )
        note_lost(self.redis, self.stream, self.group, note)

    def _failing(self, error: BaseException) -> None:
        self.status.failing_since = self.status.failing_since or time.time()
        self.status.error = _error(error)[:500]
        try:
            self.beat(force=True)
        except TRANSIENT:
            pass  # Redis is down: /healthz sees that for itself

    def beat(self, force: bool = False) -> None:
        """Write the status for /healthz, at most once a second unless forced."""
        if force or time.monotonic() - self._beaten >= 1.0:
            write_status(self.redis, self.stream, self.group, self.status, self._status_ttl_ms)
            self._beaten = time.monotonic()


def _emergency_in(entries: Sequence[Entry]) -> bool:
    """Whether an entry may be an emergency event (a producer that skips the lane)."""
    for _, fields in entries:
        raw = fields.get(EVENT_FIELD, fields.get(EVENT_FIELD.encode()))
        if raw is not None and (b'"emergency.' if isinstance(raw, bytes) else '"emergency.') in raw:
            return True
    return False


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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
