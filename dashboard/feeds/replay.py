"""`commandhall replay`: publish a real 311 export as case stories, at a chosen speed.

`speed` 0 publishes as fast as Redis takes it, in file order (each story in its own
order, which is all the workflow needs); a positive speed plays the records' own
times, `speed` seconds of the export per second (60: an hour a minute), in time
order across stories. `from_now` moves the whole export so that it starts now, and
the wall shows it live: at a positive speed its clock runs that much faster too
(every time, deadlines included, is now + elapsed / speed), so a day's lights turn
in 24 minutes at speed 60 as they did in the day.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard.feeds.records import Family, Record, Refused, read
from dashboard.feeds.stories import CityMapping, story
from streams.producer import Producer

BATCH = 500


@dataclass
class Summary:
    """What a replay did: rows read, stories published, rows set aside by reason."""

    file: str
    family: str = ""
    rows: int = 0
    stories: int = 0
    events: int = 0
    closed: int = 0
    set_aside: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def refuse(self, refused: Refused) -> None:
        """Count a row set aside; keep the first few as examples with their line."""
        reason = refused.reason.split(" '")[0].split(' "')[0]
        self.set_aside[reason] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{self.file} line {refused.line}: {refused.reason}")

    def lines(self) -> list[str]:
        """The summary as a person reads it."""
        rate = self.rows / self.seconds if self.seconds else 0.0
        out = [
            f"{self.file} ({self.family}): {self.rows} rows read, {self.stories} stories "
            f"published ({self.events} events, {self.closed} closed) in {self.seconds:.1f} s "
            f"({rate:,.0f} records/s)",
        ]
        out += [f"  set aside, {reason}: {count}" for reason, count in self.set_aside.items()]
        return out + [f"  e.g. {example}" for example in self.examples[:5]]


def stories(
    path: Path, mapping: CityMapping, timezone: str, summary: Summary, limit: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Each story of an export in file order (its first `limit` rows); refusals counted."""
    family, rows = read(path, timezone)
    summary.family = family.value
    seen: dict[str, int] = {}
    for row in itertools.islice(rows, limit):
        summary.rows += 1
        if isinstance(row, Record) and row.request_id in seen:
            row = Refused(row.line, f"duplicate of line {seen[row.request_id]}")
        if isinstance(row, Record):
            seen[row.request_id] = row.line
            told = story(row, mapping, family.value)
            if isinstance(told, list):
                summary.stories += 1
                summary.closed += told[-1]["type"] == "case.closed"
                yield told
                continue
            row = told
        summary.refuse(row)


def replay(
    path: Path,
    mapping: CityMapping,
    timezone: str,
    producer: Producer,
    *,
    speed: float = 0.0,
    from_now: bool = False,
    stop: threading.Event | None = None,
    limit: int | None = None,
) -> Summary:
    """Publish an export's stories (of its first `limit` rows); the summary."""
    summary, began = Summary(path.name), time.monotonic()
    told = stories(path, mapping, timezone, summary, limit)
    events = _in_time(told, speed, from_now, stop or threading.Event())
    for batch in _batches(events):
        summary.events += producer.publish_many(batch)
    summary.seconds = time.monotonic() - began
    return summary


def _in_time(
    told: Iterator[list[dict[str, Any]]], speed: float, from_now: bool, stop: threading.Event
) -> Iterator[dict[str, Any]]:
    if speed <= 0 and not from_now:
        return (event for events in told for event in events)
    # Timed play needs every story's first time: the export is held in memory.
    heap = [(_ts(events[0]), n, 0, events) for n, events in enumerate(told) if events]
    heapq.heapify(heap)
    first = min((ts for ts, *_ in heap), default=time.time())
    start = datetime.fromtimestamp(first, UTC)
    clock = _Clock(start, datetime.now(UTC), speed) if from_now else None
    return _played(heap, start, clock, speed, stop)


def _played(
    heap: list[Any], start: datetime, clock: _Clock | None, speed: float, stop: threading.Event
) -> Iterator[dict[str, Any]]:
    began = time.monotonic()
    while heap and not stop.is_set():
        ts, n, i, events = heapq.heappop(heap)
        if speed > 0:
            due = (ts - start.timestamp()) / speed - (time.monotonic() - began)
            if due > 0 and stop.wait(min(due, 1.0)):
                return
            if due > 1.0:
                heapq.heappush(heap, (ts, n, i, events))
                continue
        event = dict(events[i])
        if clock is not None:
            event = clock.moved(event)
        yield event
        if i + 1 < len(events):
            heapq.heappush(heap, (_ts(events[i + 1]), n, i + 1, events))


def _ts(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["at"]).timestamp()


@dataclass(frozen=True)
class _Clock:
    """The export's time moved to start now, running `speed` times faster (if any)."""

    start: datetime
    now: datetime
    speed: float

    def moved(self, event: dict[str, Any]) -> dict[str, Any]:
        for key in ("at", "deadline"):
            if key in event:
                elapsed = datetime.fromisoformat(event[key]) - self.start
                scaled = elapsed / self.speed if self.speed > 0 else elapsed
                event[key] = (self.now + scaled).isoformat()
        return event


def _batches(events: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(events)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


__all__ = ["Family", "Summary", "replay", "stories"]
