"""/api/snapshot under load: requests per second with 20 connections at 1,000 open cases.

    .venv/bin/python bench/snapshot_rate.py [--cases 1000] [--connections 20] [--seconds 10]

A fresh SQLite database with the open cases (bench/wall_load.py's fill), the web
server and the ingest worker as the demo starts them, and one wall's session; then
`--connections` clients ask for the snapshot back to back (gzip accepted, as browsers
do) for `--seconds`, while a case event a second keeps the pushes (and so the
snapshot's tail and rewrites) going. Prints requests/s, median and p99 latency.

Baseline, in the same run: reading the snapshot from the database per request as the
server did before it was kept warm (`dashboard.web.snapshot.snapshot` and its JSON),
in this process, without HTTP or a session check, as often as one core allows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wall_load import fill  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.domain.catalogue import load_catalogue  # noqa: E402
from dashboard.process import demo  # noqa: E402
from dashboard.runtime import EmbeddedRedis, free_port  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from dashboard.web.snapshot import snapshot  # noqa: E402
from streams.producer import Producer, new_event  # noqa: E402


async def load(base: str, token: str, connections: int, seconds: float) -> list[float]:
    """Latencies (ms) of every snapshot answered in `seconds` over `connections`."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as signing:
        async with signing.get(f"{base}/wall/?token={token}") as response:
            await response.read()
    cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    limits = aiohttp.TCPConnector(limit=connections)
    headers = {"Cookie": cookie, "Accept-Encoding": "gzip"}
    async with aiohttp.ClientSession(connector=limits, headers=headers) as http:

        async def client() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                async with http.get(f"{base}/api/snapshot") as response:
                    body = await response.read()
                    assert response.status == 200 and body, response.status
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(client() for _ in range(connections)))
    return latencies


async def trickle(settings: Settings, seconds: float) -> None:
    """One new case a second, so pushes keep coming while the snapshot is asked for."""
    producer = Producer(redis.Redis.from_url(settings.redis_url), settings.stream_key)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        case_id = f"R{uuid.uuid4().hex[:10]}"
        fields = {"source": "inspector", "kind": "event", "category": "0102",
                  "lon": 113.55, "lat": 22.25}  # fmt: skip
        producer.publish(new_event("case.reported", case_id, datetime.now(UTC), **fields))
        await asyncio.sleep(1.0)


def baseline(settings: Settings, seconds: float) -> float:
    """Database readings of the snapshot (and their JSON) per second, in this process."""
    app = create_app(settings)
    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        json.dumps(snapshot(app))
        done += 1
    return done / seconds


def main() -> None:
    """Fill, start, load, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
    server = EmbeddedRedis(folder / "redis")
    settings = Settings(
        data_dir=str(folder / "hall"),
        redis_url=server.url,
        stream_key=f"bench:{uuid.uuid4().hex[:8]}:cases",
        port=free_port(),
    )
    _, token = demo.prepare(settings, folder / "hall")
    fill(settings.resolved_database_url, load_catalogue(), args.cases, seed=7)
    children = [demo.spawn(settings, "ingest"), demo.spawn(settings, "serve")]
    try:
        if not demo.wait_healthy(settings, children, timeout=300):
            raise RuntimeError("the hall did not come up")
        base = f"http://{settings.host}:{settings.port}"

        async def both() -> list[float]:
            measured, _ = await asyncio.gather(
                load(base, token, args.connections, args.seconds),
                trickle(settings, args.seconds),
            )
            return measured

        latencies = sorted(asyncio.run(both()))
        rate = len(latencies) / args.seconds
        p99 = latencies[max(0, int(round(0.99 * len(latencies))) - 1)]
        print(
            f"/api/snapshot, {args.cases:,} open cases, {args.connections} connections, "
            f"{args.seconds:.0f} s: {rate:.0f} requests/s, median "
            f"{statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
        )
        demo.stop_all(children[1:])  # the baseline gets the machine to itself
        print(
            f"baseline, read from the database per request (in process, no HTTP): "
            f"{baseline(settings, args.seconds):.0f} readings/s"
        )
    finally:
        demo.stop_all(children)
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
