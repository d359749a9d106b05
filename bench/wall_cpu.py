"""The wall's browser cost: Chromium renderer CPU of one wall at 10 case events/s.

    .venv/bin/python bench/wall_cpu.py [--cases 10000] [--rate 10] [--seconds 60]
                                       [--idle 20] [--seed 7]

A fresh SQLite database with `--cases` open cases (bench/wall_load.py's fill), the
web server and ingest worker as child processes on an embedded Redis, and one wall in
headless Chromium at 1920x1080. After the first render it measures the renderer
process's CPU (Chromium's own count, SystemInfo.getProcessInfo; the map's clustering
worker runs in that process and is included) twice:

- idle: the same wall with no events for `--idle` seconds (countdowns ticking, the
  10 s redraw) - the baseline of this run;
- live: `--rate` case events per second for `--seconds` seconds, a mix that keeps
  the open count steady (a case reported, filed and dispatched; another handled and
  closed).

and prints each as a fraction of one core, with the page's main-thread script and
task time (CDP Performance.getMetrics deltas) beside it and the pushes the wall got.
Issue 14 goal 7: live ≤ 0.1 of a core.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from playwright.sync_api import Browser, CDPSession, Page

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wall_load import browser_and_redis, case_rows, filled_hall, first_render  # noqa: E402

from dashboard.domain.catalogue import Catalogue, load_catalogue  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from streams.producer import Producer, new_event  # noqa: E402

COUNT_PUSHES = """() => {
  window.__pushes = 0;
  window.commandhall.live.socket.on("cases", function () { window.__pushes += 1; });
}"""


def events(catalogue: Catalogue, count: int, seed: int) -> Iterator[dict[str, Any]]:
    """An endless steady mix: for every case opened (3 events) one is closed (2)."""
    rnd = random.Random(seed + 1)
    rows = case_rows(catalogue, count, random.Random(seed))  # the fill's own cases
    dispatched = [r["case_id"] for r in rows if r["state"] == "dispatched"]
    rnd.shuffle(dispatched)
    categories = [c for c in catalogue.categories.values() if c.department]
    min_lon, min_lat, max_lon, max_lat = catalogue.bbox
    n = 0
    while True:
        n += 1
        new_id, category = f"B{n:07d}", rnd.choice(categories)
        place = {"lon": rnd.uniform(min_lon, max_lon), "lat": rnd.uniform(min_lat, max_lat)}
        kind = {"kind": category.kind.value, "category": category.code, "source": "inspector"}
        yield new_event("case.reported", new_id, **place, **kind)
        yield new_event("case.filed", new_id)
        yield new_event("case.dispatched", new_id, department=category.department)
        old = dispatched.pop(0)
        yield new_event("case.handled", old)
        yield new_event("case.closed", old)
        dispatched.append(new_id)


def renderer_cpu(browser_cdp: CDPSession) -> float:
    """CPU seconds used so far by the renderer processes (the one wall page)."""
    info = browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    return sum(p["cpuTime"] for p in info if p["type"] == "renderer")


def page_metrics(cdp: CDPSession) -> dict[str, float]:
    """The page's main-thread figures (seconds), from Performance.getMetrics."""
    got = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in got}


def window(
    page: Page, cdp: CDPSession, browser_cdp: CDPSession, seconds: float, publish: Any
) -> dict[str, float]:
    """Renderer CPU over `seconds`, calling publish(elapsed) as time goes on."""
    page.evaluate("window.__pushes = 0")
    cpu0, m0, t0 = renderer_cpu(browser_cdp), page_metrics(cdp), time.monotonic()
    while (elapsed := time.monotonic() - t0) < seconds:
        publish(elapsed)
        time.sleep(0.02)
    cpu1, m1, wall_s = renderer_cpu(browser_cdp), page_metrics(cdp), time.monotonic() - t0
    return {
        "seconds": wall_s,
        "cpu": (cpu1 - cpu0) / wall_s,
        "script": (m1["ScriptDuration"] - m0["ScriptDuration"]) / wall_s,
        "task": (m1["TaskDuration"] - m0["TaskDuration"]) / wall_s,
        "layout": (m1["LayoutDuration"] - m0["LayoutDuration"]) / wall_s,
        "style": (m1["RecalcStyleDuration"] - m0["RecalcStyleDuration"]) / wall_s,
        "pushes": float(page.evaluate("window.__pushes")),
    }


def measure(browser: Browser, settings: Settings, token: str, args: argparse.Namespace) -> dict:
    """Open the wall, let it settle, then the idle and the live windows."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeMetrics": "threadTicks"})
    browser_cdp = browser.new_browser_cdp_session()
    url = f"http://{settings.host}:{settings.port}/wall/?token={token}"
    render_ms = first_render(page, url)
    if args.css:  # for finding what costs: e.g. "* { animation: none !important }"
        page.add_style_tag(content=args.css)
    page.wait_for_function("window.commandhall.live.connected", timeout=120_000)
    page.evaluate(COUNT_PUSHES)
    time.sleep(5)  # the first render's garbage and the worker's first build settle
    idle = window(page, cdp, browser_cdp, args.idle, lambda elapsed: None)
    producer = Producer(redis.Redis.from_url(settings.redis_url), settings.stream_key)
    stream = events(load_catalogue(), args.cases, args.seed)
    sent = [0]

    def publish(elapsed: float) -> None:
        due = int(elapsed * args.rate) - sent[0]
        if due > 0:
            producer.publish_many([next(stream) for _ in range(due)])
            sent[0] += due

    builds, redraws = page.evaluate("[commandhall.map.stats.builds, commandhall.wall.redraws]")
    live = window(page, cdp, browser_cdp, args.seconds, publish)
    live["events"] = sent[0]
    live["builds"] = page.evaluate("commandhall.map.stats.builds") - builds
    live["build_ms"] = page.evaluate("commandhall.map.stats.buildMs")
    live["redraws"] = page.evaluate("commandhall.wall.redraws") - redraws
    shown = page.evaluate("document.querySelectorAll('#wall-boards .case-row').length")
    context.close()
    return {"render": render_ms, "idle": idle, "live": live, "rows": shown}


def run(browser: Browser, redis_url: str, args: argparse.Namespace) -> dict:
    """A fresh hall with the open cases, measured."""
    with filled_hall(redis_url, args.cases, args.seed) as hall:
        return measure(browser, hall.settings, hall.token, args)


def line(name: str, w: dict[str, float]) -> str:
    """One window's figures."""
    return (
        f"  {name:<5} renderer CPU {w['cpu']:.3f} of a core "
        f"(main thread: tasks {w['task']:.3f}, script {w['script']:.3f}, "
        f"style {w['style']:.3f}, layout {w['layout']:.3f}); "
        f"{w['pushes'] / w['seconds']:.1f} pushes/s over {w['seconds']:.0f} s"
    )


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=10.0, help="case events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--css", default="", help="a style sheet added to the page")
    args = parser.parse_args()
    with browser_and_redis("bench-wall-cpu-redis-") as (browser, redis_url):
        f = run(browser, redis_url, args)
    print(f"\none wall, {args.cases:,} open cases, 1920x1080 (first render {f['render']:.0f} ms)")
    print(line("idle", f["idle"]))
    live = f["live"]
    print(line("live", live) + f"; {live['events']} events published")
    print(
        f"        {live['redraws'] / live['seconds']:.1f} redraws/s, map index rebuilt "
        f"{live['builds'] / live['seconds']:.2f} times/s (last build {live['build_ms']:.0f} ms, "
        "in the worker)"
    )
    print(f"  live - idle: {f['live']['cpu'] - f['idle']['cpu']:.3f} of a core (goal: live ≤ 0.1)")


if __name__ == "__main__":
    main()
