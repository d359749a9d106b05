"""The desk's table at 10,000 and 100,000 open cases: filter change to first rows.

    .venv/bin/python bench/desk_filter.py [--sizes 10000 100000] [--seed 7] [--repeat 5]

For each size: a fresh SQLite database filled with open cases (bench/wall_load.py's
fill), the web server and the ingest worker as the demo starts them, and the desk
opened in headless Chromium, signed in as the demo's commander. Prints:

- load: navigation until the table holds every open case;
- per filter (one unit; red lights; free text over number, address and description):
  the time from setting the control (through Dash's callback, as a click does) until
  the grid's model has updated and the next frame is painted, the median and the
  worst of --repeat runs, and how many rows it kept;
- baseline, measured in the same run on the same page: clearing the filter back to
  every row, the grid's own cost of showing the whole model again.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from dashboard.domain.catalogue import load_catalogue
from dashboard.process import demo
from dashboard.runtime import free_port
from dashboard.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wall_load import browser_and_redis, fill  # noqa: E402  (a sibling script)

TIMEOUT_MS = 300_000
CHANGE = """args => new Promise(resolve => {
  const api = window.commandhall.desk.api;
  const started = performance.now();
  const done = () => {
    api.removeEventListener("modelUpdated", done);
    requestAnimationFrame(() => resolve({ms: performance.now() - started,
                                          rows: api.getDisplayedRowCount()}));
  };
  api.addEventListener("modelUpdated", done);
  window.dash_clientside.set_props(args.id, {value: args.value});
})"""
FILTERS: list[tuple[str, str, Any]] = [
    ("one unit", "filter-department", ["sanitation"]),
    ("red lights", "filter-light", ["red"]),
    ("free text", "filter-text", "88"),
]
CLEARED = {"filter-department": [], "filter-light": [], "filter-text": ""}


def open_desk(page: Page, base: str, password: str) -> float:
    """Sign in and open the desk; seconds until the table holds every open case."""
    page.goto(f"{base}/login?next=/desk/")
    page.fill("input[name=username]", demo.COMMANDER)
    page.fill("input[name=password]", password)
    started = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_function(
        "window.commandhall && window.commandhall.desk && window.commandhall.desk.loaded",
        timeout=TIMEOUT_MS,
    )
    return time.perf_counter() - started


def change(page: Page, control: str, value: Any) -> dict[str, float]:
    """Set one control; ms until the grid shows the result, and its row count."""
    return dict(page.evaluate(CHANGE, {"id": control, "value": value}))


def measure(browser: Browser, base: str, password: str, repeat: int) -> dict[str, Any]:
    """The desk's load, each filter's times and the baseline."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    figures: dict[str, Any] = {"load": open_desk(page, base, password), "filters": {}}
    baseline: list[float] = []
    for name, control, value in FILTERS:
        times, rows = [], 0.0
        for _ in range(repeat):
            result = change(page, control, value)
            times.append(result["ms"])
            rows = result["rows"]
            baseline.append(change(page, control, CLEARED[control])["ms"])
        figures["filters"][name] = (times, rows)
    figures["baseline"] = baseline
    figures["all"] = page.evaluate("window.commandhall.desk.api.getDisplayedRowCount()")
    context.close()
    return figures


def run_size(browser: Browser, redis_url: str, count: int, seed: int, repeat: int) -> dict:
    """A fresh hall with `count` open cases, measured."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-desk-{count}-"))
    settings = Settings(data_dir=str(folder), redis_url=redis_url, port=free_port(),
                        stream_key=f"bench:{uuid.uuid4().hex[:8]}:cases")  # fmt: skip
    password, _ = demo.prepare(settings, folder)
    fill(settings.resolved_database_url, load_catalogue(), count, seed)
    children = [demo.spawn(settings, "ingest"), demo.spawn(settings, "serve")]
    try:
        if not demo.wait_healthy(settings, children, timeout=300):
            raise RuntimeError("the hall did not come up")
        return {"count": count, **measure(browser, f"http://127.0.0.1:{settings.port}",
                                          password, repeat)}  # fmt: skip
    finally:
        demo.stop_all(children)
        shutil.rmtree(folder, ignore_errors=True)


def report(f: dict[str, Any]) -> None:
    """Print one size's figures."""
    print(f"\n{f['count']:,} open cases: table loaded {f['load']:.2f} s after signing in "
          f"({f['all']:,} rows)")  # fmt: skip
    for name, (times, rows) in f["filters"].items():
        print(f"  {name:<10} first rows after median {statistics.median(times):6.0f} ms, "
              f"worst {max(times):6.0f} ms ({rows:,} rows)")  # fmt: skip
    base = f["baseline"]
    print(f"  baseline: back to every row, median {statistics.median(base):6.0f} ms, "
          f"worst {max(base):6.0f} ms")  # fmt: skip


def main() -> None:
    """Run the benchmark for each size and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with browser_and_redis("bench-desk-redis-") as (browser, redis_url):
        for count in args.sizes:
            report(run_size(browser, redis_url, count, args.seed, args.repeat))


if __name__ == "__main__":
    main()
