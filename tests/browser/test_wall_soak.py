"""A busy day replayed at high speed against an open wall: memory stays flat."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import CDPSession, Page

from dashboard.domain.lifecycle import Rules
from dashboard.sim.simulator import CitySimulator, SimulatorConfig
from tests.browser.test_wall import open_wall
from tests.hall import Hall


@pytest.fixture
def soak_hall(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A hall of this test's own."""
    running = Hall(tmp_path / "hall", redis_url)
    yield running
    running.stop()


def measure(cdp: CDPSession, page: Page) -> dict[str, float]:
    """JS heap and DOM counts after a full garbage collection."""
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    dom = cdp.send("Memory.getDOMCounters")
    return {
        "heap_mb": heap["usedSize"] / 2**20,
        "nodes": dom["nodes"],
        "listeners": dom["jsEventListeners"],
        "open_cases": page.evaluate("commandhall.wall.cases.size"),
    }


def wait_drained(hall: Hall, page: Page, timeout: float = 240) -> None:
    """Until ingest has applied everything and the wall has had its last push."""
    client = hall.producer.redis
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = client.xinfo_groups(hall.settings.stream_key)
        lag = sum(int(g.get("lag") or 0) + int(g["pending"]) for g in groups)
        if lag == 0 and client.xlen(hall.settings.stream_key) > 0:
            break
        time.sleep(1)
    page.wait_for_timeout(3000)


def test_wall_memory_stays_flat_through_a_busy_day(page: Page, soak_hall: Hall, rules: Rules):
    """Heap and DOM after a replayed day are close to where they started."""
    now = datetime.now(UTC)
    config = SimulatorConfig(rate=0.5, seed=7, backfill_hours=24)
    city = CitySimulator(rules.catalogue, rules.calendar, config, start=now - timedelta(hours=24))
    soak_hall.producer.publish_many(city.backfill())  # yesterday: the steady state
    open_wall(page, soak_hall)
    wait_drained(soak_hall, page)
    cdp = page.context.new_cdp_session(page)
    start = measure(cdp, page)
    published, moment = 0, now - timedelta(hours=24)
    while moment < now:  # today, replayed at high speed
        moment = min(now, moment + timedelta(minutes=20))
        events = city.due(moment)
        published += soak_hall.producer.publish_many(events)
        time.sleep(0.2)
    wait_drained(soak_hall, page)
    end = measure(cdp, page)
    print(f"\nsoak: {published} events replayed")
    print(f"soak start: {start}")
    print(f"soak end:   {end}")
    assert published > 20_000
    # The wall draws at most a page of boards and the visible map: DOM is bounded.
    assert end["nodes"] <= start["nodes"] * 1.5 + 2000
    assert end["listeners"] <= start["listeners"] * 1.5 + 200
    # The heap holds the open cases; per open case it must not grow.
    per_case_start = start["heap_mb"] / max(1, start["open_cases"])
    per_case_end = end["heap_mb"] / max(1, end["open_cases"])
    assert end["heap_mb"] <= start["heap_mb"] * 1.5 or per_case_end <= per_case_start * 1.2
