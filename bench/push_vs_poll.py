"""Server CPU per screen: boards fed by dcc.Interval(1 s) polling against our pushes.

    .venv/bin/python bench/push_vs_poll.py [--screens 10] [--cases 2000] [--rate 10]
                                           [--seconds 60] [--interval 1000]

One hall (embedded Redis, the ingest worker and `commandhall serve` as child
processes, bench/wall_load.py's fill of open cases) and, beside it, the ecosystem's
default way to feed the same boards: a small Dash app (polling_app below, run by
gunicorn with the threaded worker, as ours is) whose dcc.Interval callback re-reads
the open cases from the same database every `--interval` ms and returns the boards
rendered on the server (per department its counts and its most urgent cases with
their countdowns).

Two phases of `--seconds` each, in turn, with `--screens` headless Chromium pages
(960x540) and `--rate` case events per second published all along (bench/wall_cpu.py's
steady mix, applied by the one ingest worker in both):
- polling: the pages open the polling app; its server's CPU is measured;
- push: the pages open the real wall; `commandhall serve`'s CPU is measured.

CPU is the web server's process and its children (gunicorn's arbiter and workers)
from /proc, utime + stime. Prints server CPU seconds per screen per minute for each,
the ratio, and the polls per second the polling pages achieved: a starved browser
polls below the nominal rate and so flatters polling, so the polling figure is also
given scaled to the nominal rate (CPU per poll × nominal polls). Issue 14 goal 4:
ours at least 10× lower.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from playwright.sync_api import Browser, Page

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from wall_cpu import events  # noqa: E402
from wall_load import browser_and_redis, filled_hall  # noqa: E402

from dashboard.domain.catalogue import load_catalogue  # noqa: E402
from dashboard.runtime import free_port  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from streams.producer import Producer  # noqa: E402

ROWS_PER_BOARD = 12
# Counted in the page: Playwright's sync API would only see request events while the
# benchmark calls into it, not while it sleeps between publishing.
COUNT_POLLS = """
window.__polls = 0;
const fetched = window.fetch;
window.fetch = function (input, init) {
  const url = String((input && input.url) || input);
  if (url.includes("_dash-update-component")) { window.__polls += 1; }
  return fetched.call(this, input, init);
};
"""
TICKS = os.sysconf("SC_CLK_TCK")


# --- the polling side: a Dash app as the ecosystem writes it ------------------------------


def polling_app(database_url: str, interval_ms: str = "1000") -> Any:
    """The boards as a Dash app polling the database (a gunicorn app factory)."""
    from dash import Dash, Input, Output, dcc, html
    from sqlalchemy.orm import sessionmaker

    from dashboard.store.db import make_engine
    from dashboard.store.snapshot import open_cases

    catalogue = load_catalogue()
    sessions = sessionmaker(make_engine(database_url))
    app = Dash(__name__, assets_folder=str(BENCH / "no-assets"))
    app.layout = html.Div(
        [dcc.Interval(id="tick", interval=int(interval_ms)), html.Div(id="boards")]
    )

    @app.callback(Output("boards", "children"), Input("tick", "n_intervals"))
    def boards(_: int | None) -> list[Any]:
        with sessions() as session:
            cases = open_cases(session)
        return draw_boards(cases, catalogue)

    return app.server


def draw_boards(cases: dict[str, Any], catalogue: Any) -> list[Any]:
    """Per department: open, yellow and red counts and its most urgent cases."""
    from dash import html

    now = datetime.now(UTC).timestamp() * 1000
    col = {name: i for i, name in enumerate(cases["cols"])}
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"open": 0, "y": 0, "r": 0, "lit": []})
    for row in cases["rows"]:
        dep, dl, wa = row[col["dep"]], row[col["dl"]], row[col["wa"]]
        if not dep:
            continue
        g = groups[dep]
        g["open"] += 1
        if dl is None or row[col["st"]] == "suspended":
            continue
        if now >= dl:
            g["r"] += 1
        elif now >= (wa or dl):
            g["y"] += 1
        g["lit"].append(row)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1]["r"], -kv[1]["y"], -kv[1]["open"]))
    boards = []
    for dep, g in ranked:
        g["lit"].sort(key=lambda row: row[col["dl"]])
        rows = [
            html.Div(
                [
                    html.Span(str(row[col["cat"]]), className="case-name"),
                    html.Span(countdown(row[col["dl"]] - now), className="countdown"),
                ],
                className="case-row",
            )
            for row in g["lit"][:ROWS_PER_BOARD]
        ]
        name = catalogue.units[dep].name if dep in catalogue.units else dep
        head = [html.Span(name), *(html.Span(str(g[k])) for k in ("open", "y", "r"))]
        boards.append(html.Div([html.Div(head), html.Div(rows)], className="board"))
    return boards


def countdown(ms: float) -> str:
    """hh:mm:ss to (or, negative, past) a deadline."""
    s = int(abs(ms) // 1000)
    text = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
    return "-" + text if ms < 0 else text


def start_polling_server(database_url: str, port: int, interval_ms: int) -> subprocess.Popen:
    """gunicorn with the threaded worker serving polling_app, as `serve` serves ours."""
    factory = f"push_vs_poll:polling_app({database_url!r}, {str(interval_ms)!r})"
    command = [
        sys.executable, "-m", "gunicorn", "--chdir", str(BENCH), "-k", "gthread",
        "--threads", "100", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        factory,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{BENCH}:{BENCH.parent}"}
    return subprocess.Popen(command, env=env)


# --- measuring -----------------------------------------------------------------------------


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and every live descendant, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children[int(fields[1])].append(int(entry))
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


def open_pages(browser: Browser, urls: list[str], ready: str, script: str = "") -> list[Page]:
    """One page per URL in a context of its own, each waited for until `ready`."""
    pages = []
    for url in urls:
        context = browser.new_context(bypass_csp=True, viewport={"width": 960, "height": 540})
        page = context.new_page()
        if script:
            page.add_init_script(script)
        page.goto(url, timeout=120_000)
        pages.append(page)
    for page in pages:
        page.wait_for_function(ready, timeout=120_000)
    return pages


def phase(pids: list[int], seconds: float, publish: Callable[[float], None]) -> list[float]:
    """CPU seconds each server used over `seconds` of publishing."""
    cpu0, t0 = [tree_cpu(pid) for pid in pids], time.monotonic()
    while (elapsed := time.monotonic() - t0) < seconds:
        publish(elapsed)
        time.sleep(0.02)
    return [tree_cpu(pid) - before for pid, before in zip(pids, cpu0, strict=True)]


def publisher(settings: Settings, rate: float, cases: int) -> Callable[[float], None]:
    """A function that publishes the events due `elapsed` seconds into a phase."""
    producer = Producer(redis.Redis.from_url(settings.redis_url), settings.stream_key)
    stream = events(load_catalogue(), cases, seed=7)
    state = {"sent": 0, "base": 0.0}

    def publish(elapsed: float) -> None:
        if elapsed < state["base"]:  # a new phase: its clock starts again
            state["sent"] = 0
        state["base"] = elapsed
        due = int(elapsed * rate) - state["sent"]
        if due > 0:
            producer.publish_many([next(stream) for _ in range(due)])
            state["sent"] += due

    return publish


def polling_phase(browser: Browser, settings: Settings, args, serve_pid: int, publish) -> dict:
    """The polling app's CPU while `--screens` pages poll it (and ours, with no screen)."""
    port = free_port()
    server = start_polling_server(settings.resolved_database_url, port, args.interval)
    try:
        wait_up(f"http://127.0.0.1:{port}/", server)
        url = f"http://127.0.0.1:{port}/"
        pages = open_pages(
            browser, [url] * args.screens, "document.querySelector('.board')", COUNT_POLLS
        )
        before = sum(page.evaluate("window.__polls") for page in pages)
        cpu, unwatched = phase([server.pid, serve_pid], args.seconds, publish)
        polls = sum(page.evaluate("window.__polls") for page in pages) - before
        achieved = polls / args.seconds / args.screens
        for page in pages:
            page.context.close()
    finally:
        server.terminate()
        server.wait(30)
    return {"cpu": cpu, "polls": achieved, "serve_without_screens": unwatched}


def push_phase(browser: Browser, settings: Settings, token: str, args, serve_pid: int, publish):
    """`commandhall serve`'s CPU while `--screens` walls are pushed to."""
    url = f"http://{settings.host}:{settings.port}/wall/?token={token}"
    pages = open_pages(
        browser, [url] * args.screens, "window.commandhall && commandhall.live.connected"
    )
    time.sleep(3)
    (cpu,) = phase([serve_pid], args.seconds, publish)
    for page in pages:
        page.context.close()
    return {"cpu": cpu}


def wait_up(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    """Until the URL answers (or the server died)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the polling server exited")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the polling server did not come up")


def run(browser: Browser, redis_url: str, args: argparse.Namespace) -> dict:
    """A hall with the open cases; both phases in turn."""
    with filled_hall(redis_url, args.cases, 7) as hall:
        settings, web = hall.settings, hall.children[1].pid
        publish = publisher(settings, args.rate, args.cases)
        polled = polling_phase(browser, settings, args, web, publish)
        pushed = push_phase(browser, settings, hall.token, args, web, publish)
    return {"poll": polled, "push": pushed}


def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=10)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=10.0, help="case events per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="of each phase")
    parser.add_argument("--interval", type=int, default=1000, help="the polling interval, ms")
    args = parser.parse_args()
    with browser_and_redis("bench-push-poll-redis-") as (browser, redis_url):
        f = run(browser, redis_url, args)
    report(f, args)


def report(f: dict, args: argparse.Namespace) -> None:
    """CPU seconds per screen per minute, both ways, and the ratios."""
    minutes, n = args.seconds / 60, args.screens
    poll = f["poll"]["cpu"] / n / minutes
    push = f["push"]["cpu"] / n / minutes
    nominal_polls = 1000 / args.interval
    achieved = f["poll"]["polls"]
    at_nominal = poll * nominal_polls / achieved if achieved else float("inf")
    print(f"\n{n} screens, {args.cases:,} open cases, {args.rate:g} events/s, {args.seconds:g} s")
    print(
        f"  polling (dcc.Interval {args.interval} ms): {poll:.3f} server CPU s per screen per "
        f"minute at {achieved:.2f} polls/s per screen (nominal {nominal_polls:.2f})"
    )
    print(f"    scaled to the nominal rate: {at_nominal:.3f} s per screen per minute")
    alone = f["poll"]["serve_without_screens"] / minutes
    print(f"  push (the wall): {push:.3f} server CPU s per screen per minute")
    print(
        f"    of which not per screen: `serve` with no screen open used {alone:.3f} s per "
        f"minute in all (the polling phase); per screen beyond it: {push - alone / n:.3f} s"
    )
    print(
        f"  polling / push: {poll / push:.1f}× as polled, {at_nominal / push:.1f}× at the "
        f"nominal rate (goal: ≥ 10×)"
    )


if __name__ == "__main__":
    main()
