"""The wall with 10,000 and 100,000 open cases: first render, bytes, JS heap, one update.

    .venv/bin/python bench/wall_load.py [--sizes 10000 100000] [--seed 7] [--keep]

For each size: a fresh SQLite database filled with open cases by bulk Core inserts
(the catalogue's categories, units and districts, random points in the city's bbox,
a mix of green, yellow and red clocks, undispatched and suspended cases), then the
web server and the ingest worker as child processes (started as the demo starts
them) on an embedded Redis, and the wall opened in headless Chromium (Debian's, with
the browser tests' flags). Prints:

- first render: navigation start until the boards and the map's markers are drawn,
  on a second screen (the snapshot is warm) next to the first screen after the web
  server's start (the baseline: it may wait for the database's reading), and how
  long the server took to answer the layout and the snapshot;
- transferred: encoded bytes of every response (CDP Network.loadingFinished), of
  the page itself, the layout JSON and the snapshot;
- JS heap: the page's, used after load, after a forced GC (the map's clustering
  worker has a heap of its own, not counted);
- one published case: time until the push reaches the wall and until its marker is
  on the map (zoomed in on it), the index build in the worker, and the longest
  main-thread task meanwhile.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from playwright.sync_api import Browser, CDPSession, Page, sync_playwright
from sqlalchemy import insert

from dashboard.domain.catalogue import Catalogue, load_catalogue
from dashboard.process import demo
from dashboard.runtime import EmbeddedRedis, free_port
from dashboard.settings import Settings
from dashboard.store.db import init_db, make_engine
from dashboard.store.models import Case
from streams.producer import Producer, new_event

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 10_000
TIMEOUT_MS = 300_000
# Long tasks are recorded from the first byte on, so the update's can be told apart.
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) { window.__longTasks.push([e.startTime, e.duration]); });
}).observe({ type: "longtask", buffered: true });
"""
PUSHED = """id => {
  window.__pushedAt = null;
  window.commandhall.live.socket.on("cases", function (m) {
    var mine = (m.cases || []).some(function (c) { return c.id === id; });
    if (mine && window.__pushedAt === null) { window.__pushedAt = performance.now(); }
  });
}"""
TIMING = """part => {
  const r = performance.getEntriesByType("resource").find(e => e.name.includes(part));
  return r ? [r.responseStart - r.requestStart, r.responseEnd - r.responseStart] : [0, 0];
}"""
DRAWN = """() => {
  const m = window.commandhall && window.commandhall.map;
  const boards = document.querySelector('#wall-boards .board, #wall-boards .no-cases');
  return boards && m && m.stats.drawn > 0 ? performance.now() : false;
}"""


# --- the database ----------------------------------------------------------------------


def case_rows(catalogue: Catalogue, count: int, rnd: random.Random) -> Iterator[dict[str, Any]]:
    """`count` open cases in a plausible mix of states and clocks."""
    now = datetime.now(UTC)
    categories = list(catalogue.categories.values())
    districts = list(catalogue.districts)
    min_lon, min_lat, max_lon, max_lat = catalogue.bbox
    for n in range(count):
        category = rnd.choice(categories)
        reported = now - timedelta(hours=rnd.uniform(0.5, 12))
        row: dict[str, Any] = {
            "case_id": f"L{n:07d}",
            "kind": category.kind.value,
            "category": category.code,
            "source": "inspector",
            "lon": rnd.uniform(min_lon, max_lon),
            "lat": rnd.uniform(min_lat, max_lat),
            "district": rnd.choice(districts),
            "reported_at": reported,
            "updated_at": reported,
        }
        row.update(clock(rnd, category.department, reported))
        yield row


def clock(rnd: random.Random, department: str, reported: datetime) -> dict[str, Any]:
    """State, department and deadline: mostly dispatched, some late, some not yet sent."""
    # Every row names the same columns: one executemany, one statement.
    row: dict[str, Any] = dict.fromkeys(
        ("department", "filed_at", "dispatched_at", "deadline", "warn_at", "suspended_at")
    )
    draw = rnd.random()
    if draw < 0.15:
        return {**row, "state": "reported" if draw < 0.10 else "filed"}
    dispatched = reported + timedelta(minutes=10)
    span = timedelta(hours=rnd.uniform(2, 30))
    suspended = draw < 0.20
    return {
        **row,
        "state": "suspended" if suspended else "dispatched",
        "department": department,
        "filed_at": reported + timedelta(minutes=5),
        "dispatched_at": dispatched,
        "deadline": dispatched + span,
        "warn_at": dispatched + span * 0.8,
        "suspended_at": dispatched + span * 0.5 if suspended else None,
    }


def fill(database_url: str, catalogue: Catalogue, count: int, seed: int) -> float:
    """Insert the open cases; seconds taken."""
    started = time.perf_counter()
    engine = make_engine(database_url)
    init_db(engine)
    rows = list(case_rows(catalogue, count, random.Random(seed)))
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(Case), rows[start : start + CHUNK])
    engine.dispose()
    return time.perf_counter() - started


# --- the browser -----------------------------------------------------------------------


@dataclass
class Transfer:
    """Encoded bytes received per request, from the DevTools protocol."""

    urls: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)

    def listen(self, cdp: CDPSession) -> None:
        """Count every response the page receives from now on."""
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.sizes[event["requestId"]] = event["encodedDataLength"]

    def total(self, part: str = "") -> float:
        """Bytes of the responses whose URL contains `part`."""
        return sum(n for rid, n in self.sizes.items() if part in self.urls.get(rid, ""))


def first_render(page: Page, url: str) -> float:
    """Milliseconds from navigation start until boards and map markers are drawn."""
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    drawn = page.wait_for_function(DRAWN, polling="raf", timeout=TIMEOUT_MS)
    return float(drawn.json_value())


def heap_mb(cdp: CDPSession) -> float:
    """JS heap in use after a full garbage collection, in MB."""
    cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def publish_case(settings: Settings, case_id: str, lon: float, lat: float) -> None:
    """Report, file and dispatch one case at a point."""
    now = datetime.now(UTC)
    producer = Producer(redis.Redis.from_url(settings.redis_url), settings.stream_key)
    common = {"source": "inspector", "kind": "event", "category": "0102"}
    producer.publish_many(
        [
            new_event("case.reported", case_id, now, lon=lon, lat=lat, **common),
            new_event("case.filed", case_id, now),
            new_event("case.dispatched", case_id, now, department="sanitation"),
        ]
    )


def one_update(page: Page, settings: Settings, catalogue: Catalogue) -> dict[str, float]:
    """Publish one case, zoomed in where it lands; how fast and how heavy the update is."""
    min_lon, min_lat, max_lon, max_lat = catalogue.bbox
    lon, lat = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    page.evaluate("([lat, lon]) => commandhall.map.leaflet().setView([lat, lon], 17)", [lat, lon])
    page.wait_for_timeout(1500)
    case_id = f"U{uuid.uuid4().hex[:10]}"
    page.evaluate(PUSHED, case_id)
    since = page.evaluate("performance.now()")
    publish_case(settings, case_id, lon, lat)
    page.wait_for_selector(f'.leaflet-marker-pane [data-case-id="{case_id}"]', timeout=30_000)
    visible = page.evaluate("performance.now()") - since
    pushed = page.evaluate("window.__pushedAt") - since
    page.wait_for_timeout(1500)
    tasks = page.evaluate("s => window.__longTasks.filter(t => t[0] >= s).map(t => t[1])", since)
    stats = page.evaluate("commandhall.map.stats")
    longest = max(tasks, default=0.0)
    return {"pushed": pushed, "visible": visible, "build": stats["buildMs"], "longest": longest}


def measure(browser: Browser, settings: Settings, token: str, catalogue: Catalogue) -> dict:
    """Open the wall twice and take every figure.

    The first screen after the web server's start may find the snapshot still being
    read from the database (the baseline: what every page load cost before the
    snapshot was kept warm); the second one, a screen like any other, is the goal.
    """
    url = f"http://{settings.host}:{settings.port}/wall/?token={token}"
    figures: dict[str, Any] = {}
    with browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080}) as first:
        figures["cold"] = first_render(first.new_page(), url)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.add_init_script(LONG_TASKS)
    cdp = context.new_cdp_session(page)
    transfer = Transfer()
    transfer.listen(cdp)
    figures["render"] = first_render(page, url)
    figures["served"], figures["downloaded"] = page.evaluate(TIMING, "_dash-layout")
    figures["snapshot"] = page.evaluate(TIMING, "/api/snapshot")
    page.wait_for_function("window.commandhall.live.connected", timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)
    figures.update(
        bytes=transfer.total(),
        page=transfer.total("/wall/?token="),
        layout=transfer.total("_dash-layout"),
        snapshot_bytes=transfer.total("/api/snapshot"),
    )
    with urllib.request.urlopen(f"http://{settings.host}:{settings.port}/healthz") as answer:
        figures["read"] = json.load(answer)["snapshot"]["read_s"]
    figures["heap"] = heap_mb(cdp)
    figures["index"] = page.evaluate("commandhall.map.stats")
    figures["update"] = one_update(page, settings, catalogue)
    context.close()
    return figures


# --- one size ----------------------------------------------------------------------------


@dataclass
class FilledHall:
    """A hall whose database was filled with open cases, its processes running."""

    settings: Settings
    token: str
    children: list[Any]
    filled: float  # seconds the filling took


@contextmanager
def filled_hall(redis_url: str, count: int, seed: int, keep: bool = False) -> Iterator[FilledHall]:
    """A fresh hall with `count` open cases, its ingest worker and web server started
    as the demo starts them; stopped (and its folder removed unless `keep`) after."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-hall-{count}-"))
    settings = Settings(
        data_dir=str(folder),
        redis_url=redis_url,
        stream_key=f"bench:{uuid.uuid4().hex[:8]}:cases",
        port=free_port(),
        metrics_allow="127.0.0.1",  # /healthz's figures (the snapshot's read time)
    )
    _, token = demo.prepare(settings, folder)
    filled = fill(settings.resolved_database_url, load_catalogue(), count, seed)
    children = [demo.spawn(settings, "ingest"), demo.spawn(settings, "serve")]
    try:
        if not demo.wait_healthy(settings, children, timeout=300):
            raise RuntimeError("the hall did not come up")
        yield FilledHall(settings, token, children, filled)
    finally:
        demo.stop_all(children)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def run_size(browser: Browser, redis_url: str, count: int, seed: int, keep: bool) -> dict:
    """A fresh hall with `count` open cases, measured."""
    with filled_hall(redis_url, count, seed, keep) as hall:
        figures = measure(browser, hall.settings, hall.token, load_catalogue())
    return {"count": count, "filled": hall.filled, **figures}


def chromium_args() -> list[str]:
    """The browser tests' Chromium flags: one list for both (tests is not installed)."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import CHROMIUM_ARGS

    return CHROMIUM_ARGS


def report(f: dict) -> None:
    """Print one size's figures."""
    index, update = f["index"], f["update"]
    print(f"\n{f['count']:,} open cases (database filled in {f['filled']:.1f} s)")
    print(
        f"  first render (navigation → boards + map): {f['render'] / 1000:.2f} s;  "
        f"baseline, the first screen after the server's start: {f['cold'] / 1000:.2f} s"
    )
    print(
        f"    baseline, what each page load read before the snapshot was kept warm: the web "
        f"process read it from the database in {f['read']:.2f} s (once, at its start)"
    )
    served, downloaded = f["snapshot"]
    print(
        f"    the server answered the layout after {f['served'] / 1000:.2f} s "
        f"(downloaded in {f['downloaded'] / 1000:.2f} s), the snapshot after "
        f"{served / 1000:.2f} s (downloaded in {downloaded / 1000:.2f} s)"
    )
    print(
        f"  transferred: {f['bytes'] / 1e6:.2f} MB, of which the page {f['page'] / 1e6:.2f} MB, "
        f"the layout {f['layout'] / 1e6:.3f} MB and the snapshot {f['snapshot_bytes'] / 1e6:.2f} MB"
    )
    print(f"  JS heap after load (after GC): {f['heap']:.1f} MB")
    print(
        f"  case layer: {index['points']:,} points indexed in {index['buildMs']:.0f} ms "
        f"(slowest build {index['maxBuildMs']:.0f} ms), {index['drawn']} markers drawn "
        f"in {index['drawMs']:.1f} ms"
    )
    print(
        f"  one published case: pushed to the wall after {update['pushed']:.0f} ms, "
        f"on the map after {update['visible']:.0f} ms; index rebuilt (worker) in "
        f"{update['build']:.0f} ms; longest main-thread task {update['longest']:.0f} ms"
    )


def main() -> None:
    """Run the benchmark for each size and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    args = parser.parse_args()
    with browser_and_redis("bench-wall-redis-") as (browser, redis_url):
        for count in args.sizes:
            report(run_size(browser, redis_url, count, args.seed, args.keep))


@contextmanager
def browser_and_redis(prefix: str) -> Iterator[tuple[Browser, str]]:
    """Debian's Chromium with the browser tests' flags, and an embedded Redis's URL.

    Pages are opened with bypass_csp, as in the browser tests: Playwright evaluates
    its string predicates as strings, which the server's CSP refuses to run.
    """
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix=prefix)))
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=chromium_args())
            yield browser, server.url
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
