"""Restart to ready with a year of a big city in the database (1,000,000 cases).

    .venv/bin/python bench/restart.py [--cases 1000000] [--runs 3] [--database-url URL]

Fills a database with bench/rankings.py's generator (six months of cases with their
versions, about 2% still open), starts the ingest worker, then, --runs times, starts
the web server (`commandhall serve` at its defaults) and times from its start to:

- `/healthz` answering 200 (Redis, the database and the worker heard from);
- a wall's first render in headless Chromium (1920x1080): navigation until its
  snapshot is loaded and the boards are drawn, the page opened as soon as `/healthz`
  answers (the generated cases have no map markers to wait for).

Baseline, in the same run: the same with 1,000 cases (what starting the processes
costs at all; a wall with no case draws no marker to wait for). The goal is ready
and drawn within 10 s at 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rankings import generate  # noqa: E402
from bench.wall_load import TIMEOUT_MS, browser_and_redis  # noqa: E402
from dashboard.process import demo  # noqa: E402
from dashboard.runtime import free_port  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from dashboard.store.db import init_db, make_engine  # noqa: E402

BOARDS = """() => window.commandhall && commandhall.wall.loaded
  && document.querySelector('#wall-boards .board, #wall-boards .no-cases')"""


def healthy(settings: Settings) -> bool:
    """Whether /healthz answers 200."""
    url = f"http://{settings.host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def one_start(browser, settings: Settings, token: str) -> tuple[float, float, dict]:
    """Start the web server; seconds to /healthz 200 and to a wall's first render."""
    started = time.monotonic()
    web = demo.spawn(settings, "serve")
    try:
        while not healthy(settings):
            if web.poll() is not None or time.monotonic() - started > 120:
                raise RuntimeError("the web server did not come up")
            time.sleep(0.05)
        ready = time.monotonic() - started
        with browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080}) as c:
            page = c.new_page()
            page.goto(f"http://{settings.host}:{settings.port}/wall/?token={token}")
            page.wait_for_function(BOARDS, polling="raf", timeout=TIMEOUT_MS)
            drawn = time.monotonic() - started
        with urllib.request.urlopen(f"http://{settings.host}:{settings.port}/healthz") as answer:
            snapshot = json.load(answer)["snapshot"]
        return ready, drawn, snapshot
    finally:
        demo.stop_all([web])


def hall(redis_url: str, database_url: str, cases: int) -> tuple[Settings, str, Path]:
    """Settings, a wall token and the folder of a hall whose database holds `cases`."""
    folder = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    settings = Settings(
        data_dir=str(folder),
        redis_url=redis_url,
        database_url=database_url,
        stream_key=f"bench:{uuid.uuid4().hex[:8]}:cases",
        port=free_port(),
        metrics_allow="127.0.0.1",  # /healthz's figures (the snapshot's read time)
    )
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    took = generate(engine, cases)
    print(f"generated {cases:,} cases in {took:.0f} s")
    engine.dispose()
    _, token = demo.prepare(settings, folder)
    return settings, token, folder


def measure(browser, settings: Settings, token: str, runs: int, label: str) -> None:
    """Start the worker, then the web server `runs` times; print the figures."""
    worker = demo.spawn(settings, "ingest")
    try:
        # The first start also waits for the new worker to be heard from: not counted.
        one_start(browser, settings, token)
        results = [one_start(browser, settings, token) for _ in range(runs)]
    finally:
        demo.stop_all([worker])
    ready = [r[0] for r in results]
    drawn = [r[1] for r in results]
    snapshot = results[-1][2]
    print(
        f"{label}: /healthz 200 after {statistics.median(ready):.1f} s "
        f"(min {min(ready):.1f}, max {max(ready):.1f}); wall drawn after "
        f"{statistics.median(drawn):.1f} s (min {min(drawn):.1f}, max {max(drawn):.1f}); "
        f"{snapshot['open_cases']:,} open cases, snapshot read in {snapshot['read_s']:.1f} s"
    )


def main() -> None:
    """Fill, restart, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="", help="an empty database; else SQLite")
    args = parser.parse_args()
    with browser_and_redis("bench-restart-redis-") as (browser, redis_url):
        small, token, folder = hall(redis_url, "", 1_000)
        measure(browser, small, token, args.runs, "baseline, 1,000 cases")
        shutil.rmtree(folder, ignore_errors=True)
        full, token, folder = hall(redis_url, args.database_url, args.cases)
        measure(browser, full, token, args.runs, f"{args.cases:,} cases")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
