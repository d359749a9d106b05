"""Redis stopped and started again while events flow, with and without persistence."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.faults.processes import (
    Flow,
    Running,
    Sampler,
    applied_cases,
    database,
    fault_settings,
    report,
    wait_until,
)

DOWN_S = 5.0


def restart_redis(server, persistent: bool) -> tuple[float, float]:
    """Stop Redis (cleanly with AOF, a crash without), wait, start it; (down, up)."""
    down = time.monotonic()
    server.stop(signal.SIGTERM if persistent else signal.SIGKILL)
    time.sleep(DOWN_S)
    server.start()
    return down, time.monotonic()


@pytest.mark.parametrize("persistent", [True, False], ids=["aof-sigterm", "none-sigkill"])
def test_ingest_recovers_and_healthz_tells_the_truth(
    tmp_path: Path, own_redis, persistent: bool
) -> None:
    """Ingest resumes after Redis comes back (the group recreated if lost); /healthz
    is never 200 while Redis is down, and is 200 again once ingest keeps up."""
    server = own_redis(persistent)
    settings = fault_settings(tmp_path / "hall", server.url, stall_s=5.0)
    hall = Running(settings, tmp_path / "hall")
    engine = database(settings)
    flow, sampler = Flow(server.url, settings.stream_key, seed=3), Sampler(hall)
    flow.start()
    sampler.start()
    try:
        wait_until(lambda: len(applied_cases(engine)) >= 10, 60, "cases applied before")
        down, up = restart_redis(server, persistent)
        wait_until(lambda: any(t > up for t, _, _ in flow.accepted), 30, "publishing again")
        time.sleep(3)
        flow.stop()
        after = [(case, ids) for t, case, ids in flow.accepted if t > up]
        everything = [(case, ids) for _, case, ids in flow.accepted]
        must = everything if persistent else after

        def applied_all() -> bool:
            cases = applied_cases(engine)
            return all(cases.get(case) == ids for case, ids in must)

        wait_until(applied_all, 60, "every event published after the restart applied")
        recovered = time.monotonic()
        wait_until(lambda: hall.health()[0] == 200, 30, "/healthz 200 again")
        healthy = time.monotonic()
        _, body = hall.health()
    finally:
        sampler.stop()
        flow.stop()
        hall.stop()
    lies = sampler.lies(down, up)
    said_down = {tuple(p) for t, code, p, _ in sampler.samples if down + 0.3 < t < up}
    report(
        f"redis-restart[{'aof' if persistent else 'none'}]",
        cases=len(flow.accepted),
        events=sum(len(ids) for _, _, ids in flow.accepted),
        cases_must_apply=len(must),
        down_s=DOWN_S,
        recovery_s=round(recovered - up, 1),
        healthz_200_after_s=round(healthy - up, 1),
        healthz_lies=len(lies),
        healthz_samples=len(sampler.samples),
        stream_lost=bool(body.get("stream_lost")),
    )
    assert lies == [], lies
    assert said_down, "no /healthz sample while Redis was down"
    assert bool(body.get("stream_lost")) is not persistent
