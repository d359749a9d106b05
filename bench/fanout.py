"""Screens per process: one `commandhall serve` at its defaults, holding N walls.

    .venv/bin/python bench/fanout.py [--steps 0 500 1000] [--rounds 10] [--probes 100]

Starts a hall (embedded Redis; ingest and web as child processes, as the demo starts
them, the web server at its defaults: one gevent worker), then, for each step,
connects that many wall screens (Socket.IO clients over websocket, each signed in
with a display token of its own, as a wall PC is) and, with all of them open, prints:

- HTTP: `/healthz` and a wall page load (the page and its Dash layout, signed in)
  timed --probes times each while the screens stay connected: median, p99, worst;
- emergency: --rounds times, `emergency.raised` is published on the stream and every
  screen notes when its push arrives (this process's clock, which published it): the
  delay to the last screen of each round, and p99 over every delivery of every round;
- the web process's resident memory and CPU seconds.

Step 0 is the baseline in the same run: no screen connected, and the emergency timed
on one screen. The goal is at least 500 screens with HTTP answering within 100 ms and
the emergency reaching the last screen within 500 ms (p99 over the rounds); the
largest step that meets it is printed as the limit, with what broke at the next one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams.names import Push  # noqa: E402
from streams.producer import new_event  # noqa: E402
from tests.hall import Hall, temporary_hall  # noqa: E402

HTTP_GOAL_MS, EMERGENCY_GOAL_MS = 100.0, 500.0


@dataclass
class Screen:
    """One wall's live connection and when each emergency push reached it."""

    client: socketio.AsyncClient
    arrivals: dict[str, float] = field(default_factory=dict)  # level -> time.time()


async def sign_in(http: aiohttp.ClientSession, hall: Hall, name: str) -> str:
    """A wall's session cookie, got the way a wall gets it: its token in the URL."""
    token = hall.accounts.create_token(name)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as own:
        async with own.get(f"{hall.base_url}/wall/?token={token}") as response:
            await response.read()
            assert response.status == 200, response.status
    return "; ".join(f"{c.key}={c.value}" for c in jar)


async def connect(hall: Hall, cookie: str) -> Screen:
    """A Socket.IO connection as the wall's live.js opens it (websocket only)."""
    client = socketio.AsyncClient(reconnection=False)
    screen = Screen(client)

    @client.on(Push.EMERGENCY.value)
    async def emergency(message: dict) -> None:
        current = message.get("emergency") or {}
        screen.arrivals.setdefault(current.get("level") or "none", time.time())

    await client.connect(
        hall.base_url,
        headers={"Cookie": cookie, "Origin": hall.base_url},
        transports=["websocket"],
        wait_timeout=60,
    )
    return screen


async def open_screens(hall: Hall, screens: list[Screen], total: int) -> None:
    """Connect screens until there are `total`, at most 25 signing in at a time."""
    gate = asyncio.Semaphore(25)

    async def one(n: int) -> Screen:
        async with gate:
            async with aiohttp.ClientSession() as http:
                cookie = await sign_in(http, hall, f"bench/fanout/{n}")
            return await connect(hall, cookie)

    screens.extend(await asyncio.gather(*(one(n) for n in range(len(screens), total))))


async def probe(hall: Hall, cookie: str, count: int) -> dict[str, list[float]]:
    """HTTP while the screens are open: /healthz and a wall page load, in ms."""
    timings: dict[str, list[float]] = {"healthz": [], "page load": []}
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        for _ in range(count):
            started = time.perf_counter()
            async with http.get(f"{hall.base_url}/healthz") as response:
                await response.read()
            timings["healthz"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            async with http.get(f"{hall.base_url}/wall/") as response:
                await response.read()
                assert response.status == 200, response.status
            async with http.get(f"{hall.base_url}/wall/_dash-layout") as response:
                await response.read()
                assert response.status == 200, response.status
            timings["page load"].append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    return timings


async def emergency_rounds(hall: Hall, screens: list[Screen], rounds: int) -> list[list[float]]:
    """Raise an emergency `rounds` times (a new level each time); delays in ms."""
    levels = ["red", "orange", "yellow", "blue"]
    results = []
    for n in range(rounds):
        level = levels[n % len(levels)]
        for screen in screens:
            screen.arrivals.pop(level, None)
        published = time.time()
        hall.producer.publish(new_event("emergency.raised", hazard="typhoon", level=level))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(level in s.arrivals for s in screens):
            await asyncio.sleep(0.01)
        missing = sum(level not in s.arrivals for s in screens)
        if missing:
            raise RuntimeError(f"round {n + 1}: {missing} screens never heard the emergency")
        results.append(sorted((s.arrivals[level] - published) * 1000 for s in screens))
        await asyncio.sleep(0.3)
    hall.producer.publish(new_event("emergency.cleared"))
    return results


def percentile(values: list[float], share: float) -> float:
    """The percentile (nearest rank): share 0.99 for p99."""
    ordered = sorted(values)
    return ordered[max(0, int(round(share * len(ordered))) - 1)]


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    return percentile(values, 0.99)


def web_process(hall: Hall) -> list[psutil.Process]:
    """The web server's processes: gunicorn's master and its workers."""
    master = psutil.Process(hall.children[1].pid)
    return [master, *master.children(recursive=True)]


async def run(args: argparse.Namespace) -> None:
    """Every step, one after another, on one hall."""
    with temporary_hall("bench-fanout-") as hall:
        async with aiohttp.ClientSession() as http:
            prober = await sign_in(http, hall, "bench/prober")
        screens: list[Screen] = []
        verdicts = []
        for step in args.steps:
            started = time.monotonic()
            await open_screens(hall, screens, max(step, 1))
            connected = time.monotonic() - started
            cpu_before = sum(p.cpu_times().user + p.cpu_times().system for p in web_process(hall))
            timings = await probe(hall, prober, args.probes)
            rounds = await emergency_rounds(hall, screens, args.rounds)
            processes = web_process(hall)
            cpu = sum(p.cpu_times().user + p.cpu_times().system for p in processes) - cpu_before
            rss = sum(p.memory_info().rss for p in processes) / 2**20
            lasts = [r[-1] for r in rounds]
            every = [d for r in rounds for d in r]
            http_worst = max(p99(t) for t in timings.values())
            label = "baseline: none" if step == 0 else f"{step}"
            print(f"\n== screens {label} (connected in {connected:.1f} s)")
            for name, values in timings.items():
                print(
                    f"  {name:<10} median {statistics.median(values):6.1f} ms  "
                    f"p95 {percentile(values, 0.95):6.1f} ms  "
                    f"p99 {percentile(values, 0.99):6.1f} ms  worst {max(values):6.1f} ms"
                )
            print(
                f"  emergency to the last screen: median {statistics.median(lasts):6.1f} ms  "
                f"worst {max(lasts):6.1f} ms;  every delivery: p50 {statistics.median(every):.1f}"
                f" ms  p99 {p99(every):.1f} ms  ({len(rounds)} rounds x {len(screens)} screens)"
            )
            print(f"  web process: {rss:.0f} MB resident, {cpu:.1f} CPU s during the step")
            problems = []
            if http_worst > HTTP_GOAL_MS:
                problems.append(f"HTTP p99 {http_worst:.0f} ms > {HTTP_GOAL_MS:.0f}")
            if p99(lasts) > EMERGENCY_GOAL_MS:
                problems.append(f"emergency p99 {p99(lasts):.0f} ms > {EMERGENCY_GOAL_MS:.0f}")
            verdicts.append((step, problems))
        met = [step for step, problems in verdicts if not problems and step]
        broke = [(step, problems) for step, problems in verdicts if problems and step]
        print(f"\nlimit: {f'{max(met)} screens' if met else 'no step'} met both goals", end="")
        print(f"; at {broke[0][0]}: {', '.join(broke[0][1])}" if broke else "")
        await asyncio.gather(*(s.client.disconnect() for s in screens))


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 500, 1000])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--probes", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
