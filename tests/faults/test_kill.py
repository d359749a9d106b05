"""SIGKILL the ingest worker at random points; restart it under new names (and old)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path

import redis

from streams.producer import Producer
from tests.faults.lifecycles import interleaved, per_case
from tests.faults.processes import (
    Workers,
    applied_ids,
    database,
    fault_settings,
    letters,
    report,
    wait_until,
)

CASES = 400  # about 3,000 events
KILLS = 10


class Publisher(threading.Thread):
    """Publishes in small bursts, up to an allowance that grows with every kill, so
    that kills land while events flow however slow the machine is."""

    def __init__(self, producer: Producer, events: list) -> None:
        super().__init__(daemon=True)
        self.producer, self.events = producer, events
        self.allowance, self.done = len(events) // (KILLS + 1), threading.Event()
        self.sent = 0

    def allow(self, share: float) -> None:
        """Let the publisher go up to this share of all events."""
        self.allowance = max(self.allowance, int(len(self.events) * share))

    def run(self) -> None:
        while self.sent < len(self.events):
            if self.sent < self.allowance:
                burst = self.events[self.sent : self.sent + 25]
                self.producer.publish_many(burst)
                self.sent += len(burst)
            time.sleep(0.1)
        self.done.set()


def test_killed_workers_apply_every_event_once_in_order(tmp_path: Path, redis_url: str) -> None:
    """Every event is applied exactly once, in order per case, with no dead letter."""
    settings = fault_settings(tmp_path, redis_url, batch_size=50)
    engine = database(settings)
    client = redis.Redis.from_url(redis_url)
    events = interleaved(CASES, seed=9)
    rng = random.Random(9)
    publisher = Publisher(Producer(client, settings.stream_key), events)
    done = publisher.done
    workers = Workers(settings)
    name, recoveries, stalls, kills = f"w-{uuid.uuid4().hex[:6]}", [], 0, 0
    started = time.monotonic()
    workers.start(name)
    publisher.start()
    try:
        while kills < KILLS:
            before = len(applied_ids(engine))
            publisher.allow((kills + 1) / (KILLS + 1))
            # Kill at a random moment once it works: mid-batch, between batches, or
            # right after a commit and before its XACK.
            wait_until(lambda: len(applied_ids(engine)) > before, 30, "progress")  # noqa: B023
            time.sleep(rng.uniform(0, 0.6))
            workers.kill()
            kills += 1
            killed_at, at_kill = time.monotonic(), len(applied_ids(engine))
            if rng.random() < 0.7:
                name = f"w-{uuid.uuid4().hex[:6]}"  # as the Procfile does: host-pid
            workers.start(name)
            if at_kill < publisher.sent:  # something left to apply: it must resume
                progressed = lambda: len(applied_ids(engine)) > at_kill  # noqa: E731, B023
                try:
                    wait_until(progressed, 30, "recovery after a kill")
                except AssertionError:
                    stalls += 1
                    raise
                recoveries.append(time.monotonic() - killed_at)
        publisher.allow(1.0)
        done.wait(60)
        wait_until(lambda: len(applied_ids(engine)) >= len(events), 60, "every event applied")
        time.sleep(0.5)  # anything doubled or late would land now
    finally:
        workers.stop()
        publisher.join(60)
    rows = applied_ids(engine)
    applied = {event_id for _, event_id in rows}
    expected = per_case(events)
    stored: dict[str, list[str]] = {}
    for case_id, event_id in rows:
        stored.setdefault(case_id or "", []).append(event_id)
    dead = letters(client, settings.stream_key)
    out_of_order = sum(stored.get(case) != ids for case, ids in expected.items())
    report(
        "kill",
        events=len(events),
        kills=kills,
        workers=workers.started,
        applied=len(applied),
        doubled=len(rows) - len(applied),
        missing=len({e["event_id"] for e in events} - applied),
        out_of_order_cases=out_of_order,
        dead_lettered=len(dead),
        stalls=stalls,
        recovery_max_s=round(max(recoveries, default=0), 2),
        recovery_median_s=round(sorted(recoveries)[len(recoveries) // 2], 2) if recoveries else 0,
        wall_s=round(time.monotonic() - started, 1),
    )
    assert dead == [], dead[:3]
    assert len(rows) == len(applied) == len(events)
    assert out_of_order == 0
    assert client.xpending(settings.stream_key, settings.consumer_group)["pending"] == 0
