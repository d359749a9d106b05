"""Realistic case lifecycles, interleaved across cases as a city publishes them.

Every step depends on the one before it (a verification only after handling, a
closure only after a passed verification), so an event applied out of order is
refused by the workflow and shows up as a dead letter or a wrong history.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.producer import new_event

DEPARTMENTS = ("sanitation", "gardens", "highways", "water")


def lifecycle(case_id: str, start: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """One case from report to closure, with urges, extensions and rework at random."""
    moments = iter(start + timedelta(minutes=3 * i + rng.random()) for i in range(100))
    report = {"source": "inspector", "kind": "event", "category": "0102",
              "lon": 113.5 + rng.random() / 10, "lat": 22.2 + rng.random() / 10}  # fmt: skip
    events = [
        new_event("case.reported", case_id, next(moments), **report),
        new_event("case.filed", case_id, next(moments)),
        new_event("case.dispatched", case_id, next(moments), department=rng.choice(DEPARTMENTS)),
    ]
    if rng.random() < 0.3:
        events.append(new_event("case.urged", case_id, next(moments), by="duty"))
    if rng.random() < 0.2:
        events.append(new_event("case.extended", case_id, next(moments), hours=2))
    for _ in range(rng.choice((0, 0, 0, 1, 2))):  # rework: handled, failed the check
        events.append(new_event("case.handled", case_id, next(moments)))
        events.append(new_event("case.verified", case_id, next(moments), passed=False))
    events.append(new_event("case.handled", case_id, next(moments)))
    events.append(new_event("case.verified", case_id, next(moments), passed=True))
    events.append(new_event("case.closed", case_id, next(moments)))
    return events


def interleaved(cases: int, seed: int, prefix: str = "F") -> list[dict[str, Any]]:
    """Lifecycles of many cases merged at random, each case's own order kept."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=2)
    queues = [lifecycle(f"{prefix}{i:05d}", start, rng) for i in range(cases)]
    merged: list[dict[str, Any]] = []
    active = [q for q in queues]
    while active:
        queue = rng.choice(active[:40])  # a few dozen cases in progress at a time
        merged.append(queue.pop(0))
        if not queue:
            active.remove(queue)
    return merged


def per_case(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The event ids of each case in published order."""
    order: dict[str, list[str]] = {}
    for event in events:
        order.setdefault(event["case_id"], []).append(event["event_id"])
    return order
