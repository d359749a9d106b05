"""Redis restarted under an open wall while events flow: the wall ends up equal to the
database, without a reload (fault injection; also marked `faults`)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from dashboard.store.models import Case
from streams.names import OPEN_STATES
from tests.faults.processes import (
    Flow,
    Running,
    Sampler,
    applied_cases,
    database,
    fault_settings,
    own_redis,  # noqa: F401  (a fixture)
    report,
    wait_until,
)

pytestmark = pytest.mark.faults

WALL_CASES = """() => Array.from(window.commandhall.wall.cases.values())
    .map(function (c) { return c.id + " " + c.st; }).sort()"""


def open_in_database(engine) -> list[str]:
    """'id state' of every open case in the database, sorted."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Case.case_id, Case.state).where(Case.state.in_(OPEN_STATES))
        )
        return sorted(f"{case_id} {state}" for case_id, state in rows)


@pytest.mark.parametrize("persistent", [True, False], ids=["aof-sigterm", "none-sigkill"])
def test_wall_equals_the_database_after_redis_restarts(
    page: Page,
    tmp_path: Path,
    own_redis,  # noqa: F811  (the fixture imported above)
    persistent: bool,
) -> None:
    """However Redis went away, the open wall shows the database's open cases again."""
    server = own_redis(persistent)
    settings = fault_settings(tmp_path / "hall", server.url, stall_s=5.0)
    hall = Running(settings, tmp_path / "hall")
    engine = database(settings)
    flow, sampler = Flow(server.url, settings.stream_key, seed=5, every=0.2), Sampler(hall)
    try:
        page.goto(hall.wall_url)
        page.wait_for_selector(".kpi-strip .kpi", timeout=60_000)
        page.wait_for_function("window.commandhall.live.connected", timeout=60_000)
        page.evaluate("window.__notReloaded = true")
        flow.start()
        sampler.start()
        wait_until(lambda: len(applied_cases(engine)) >= 10, 60, "cases applied before")
        down = time.monotonic()
        server.stop(signal.SIGTERM if persistent else signal.SIGKILL)
        time.sleep(5)
        server.start()
        up = time.monotonic()
        wait_until(lambda: any(t > up for t, _, _ in flow.accepted), 30, "publishing again")
        time.sleep(3)
        flow.stop()
        after = [(case, ids) for t, case, ids in flow.accepted if t > up]
        wait_until(
            lambda: all(applied_cases(engine).get(c) == ids for c, ids in after),
            60,
            "events published after the restart applied",
        )
        expected = open_in_database(engine)
        started = time.monotonic()
        try:
            page.wait_for_function(
                f"(want) => JSON.stringify(({WALL_CASES})()) === want",
                arg=json.dumps(expected, separators=(",", ":")),
                timeout=60_000,
                polling=250,
            )
        finally:
            shown = page.evaluate(WALL_CASES)
        converged = time.monotonic() - started
        live = page.evaluate("[window.commandhall.live.resyncs, window.commandhall.live.gaps]")
        assert page.evaluate("window.__notReloaded") is True
    finally:
        sampler.stop()
        flow.stop()
        hall.stop()
    report(
        f"wall-redis-restart[{'aof' if persistent else 'none'}]",
        cases=len(flow.accepted),
        open_in_db=len(expected),
        on_wall=len(shown),
        missing_on_wall=len(set(expected) - set(shown)),
        stale_on_wall=len(set(shown) - set(expected)),
        resyncs=live[0],
        gaps_seen=live[1],
        converged_after_s=round(converged, 1),
        healthz_lies=len(sampler.lies(down, up)),
    )
    assert shown == expected
    assert live[0] >= 1, "the web process did not tell the wall to resync after Redis came back"
    assert sampler.lies(down, up) == []
