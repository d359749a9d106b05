"""Ingest throughput next to raw XREADGROUP+XACK, and live ingest's CPU per event.

    .venv/bin/python bench/ingest.py [--events 50000] [--redis-url URL] [--database-url URL]
                                     [--live-rate 200] [--live-s 20]

Bulk: publishes the same events into two streams of one Redis, drains one with a
bare consumer loop (read 500, ack 500: the ceiling Redis itself sets) and the other
with the real ingest worker (parse, apply in SQL, acknowledge), and prints both rates
and their ratio, on SQLite and, with --database-url, on that database too (a
PostgreSQL gets a schema of its own, dropped after).

Live: starts the real worker (`commandhall ingest`, with its live push) as a child
process on SQLite, feeds it --live-rate events a second for --live-s seconds, and
prints the CPU time the process spent per event (from /proc), next to the same
process fed the same number of events at once (drained in 500-event batches).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text

from dashboard.domain.city import city_rules
from dashboard.ingest.worker import Ingest
from dashboard.process import demo
from dashboard.runtime import EmbeddedRedis
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from streams.consumer import lag
from streams.producer import Producer, new_event

STEPS = ("case.filed", "case.dispatched", "case.handled", "case.closed")


def events(total: int) -> list[dict[str, Any]]:
    """`total` events: cases reported, filed, dispatched, handled and closed."""
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for n in range(total // 5):
        case_id, at = f"B{n:07d}", start + timedelta(seconds=n)
        out.append(
            new_event(
                "case.reported",
                case_id,
                at,
                source="inspector",
                kind="event",
                category="0102",
                lon=113.5,
                lat=22.2,
            )
        )
        for i, step in enumerate(STEPS, 1):
            extra = {"department": "sanitation"} if step == "case.dispatched" else {}
            out.append(new_event(step, case_id, at + timedelta(minutes=10 * i), **extra))
    return out


def raw_rate(client: redis.Redis, stream: str, count: int) -> tuple[float, float]:
    """Entries per second through XREADGROUP + XACK alone: by the clock, by our CPU."""
    client.xgroup_create(stream, "raw", id="0", mkstream=True)
    started, cpu, done = time.perf_counter(), time.process_time(), 0
    while done < count:
        reply = client.xreadgroup("raw", "c", {stream: ">"}, count=500)
        ids = [entry_id for _, batch in reply for entry_id, _ in batch]
        client.xack(stream, "raw", *ids)
        done += len(ids)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def ingest_rate(
    client: redis.Redis, stream: str, database_url: str, count: int
) -> tuple[float, float]:
    """Events per second through the ingest worker into the database: clock, our CPU."""
    engine = make_engine(database_url)
    init_db(engine)
    store = Store(engine, city_rules(Settings()))
    ingest = Ingest(client, store, None, stream=stream, group="bench", name="bench")
    ingest.consumer.ensure_group()
    started, cpu = time.perf_counter(), time.process_time()
    while ingest.consumer.step():
        pass
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def ratio(client: redis.Redis, database_url: str, batch: list[dict[str, Any]]) -> None:
    """Raw and ingest rates on one database, printed with their ratio."""
    tag = uuid.uuid4().hex[:8]
    for name in ("raw", "ingest"):
        Producer(client, f"bench:{tag}:{name}").publish_many(batch)
    raw, raw_cpu = raw_rate(client, f"bench:{tag}:raw", len(batch))
    applied, applied_cpu = ingest_rate(client, f"bench:{tag}:ingest", database_url, len(batch))
    kind = database_url.split(":")[0]
    print(f"{kind:<20} raw XREADGROUP+XACK {raw:8,.0f}/s   ingest {applied:7,.0f} events/s   "
          f"{applied / raw:6.1%} of raw", flush=True)  # fmt: skip
    # On a loaded machine the two runs meet different loads; per CPU second of this
    # process (Redis's and PostgreSQL's own CPU not counted) they compare steadier.
    print(f"{'':<20} per CPU second:    {raw_cpu:8,.0f}/s   ingest {applied_cpu:7,.0f} events/s   "
          f"{applied_cpu / raw_cpu:6.1%} of raw", flush=True)  # fmt: skip
    client.delete(*[f"bench:{tag}:{name}{end}" for name in ("raw", "ingest")
                    for end in ("", ":lane")])  # fmt: skip


@contextmanager
def own_schema(url: str) -> Iterator[str]:
    """The URL with a schema of its own on PostgreSQL (dropped after); others as given."""
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_drained(client: redis.Redis, stream: str, group: str) -> None:
    """Until the group has read and acknowledged everything (the worker is idle)."""
    while True:
        left = lag(client, stream, group, cap=1_000_000)
        if left["undelivered"] == 0 and left["pending"] == 0:
            return
        time.sleep(0.05)


def live(url: str, folder: Path, rate: int, seconds: float) -> None:
    """CPU per event of the real worker fed at `rate`, and fed in bulk."""
    settings = Settings(data_dir=str(folder / "live"), redis_url=url,
                        stream_key=f"bench:{uuid.uuid4().hex[:8]}:live")  # fmt: skip
    client = redis.Redis.from_url(url)
    producer = Producer(client, settings.stream_key)
    worker = demo.spawn(settings, "ingest")
    try:
        stream, group = settings.stream_key, settings.consumer_group
        producer.publish_many(events(500))  # warm: tables, imports, caches
        wait_drained(client, stream, group)
        time.sleep(2)
        count = int(rate * seconds) // 5 * 5
        fed = retimed(events(count), "T")
        before, started = cpu_s(worker.pid), time.monotonic()
        for n, event in enumerate(fed):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            producer.publish(event)
        wait_drained(client, stream, group)
        paced = (cpu_s(worker.pid) - before) / count * 1000
        time.sleep(2)
        before = cpu_s(worker.pid)
        producer.publish_many(retimed(events(count), "U"))
        wait_drained(client, stream, group)
        bulk = (cpu_s(worker.pid) - before) / count * 1000
    finally:
        demo.stop_all([worker])
        client.delete(*client.keys(settings.stream_key + "*"))
    print(f"live, {rate} events/s for {seconds:g} s ({count} events): "
          f"{paced:.3f} ms CPU per event of the worker process", flush=True)  # fmt: skip
    print(f"same worker, {count} events at once (500 a batch): "
          f"{bulk:.3f} ms CPU per event", flush=True)  # fmt: skip


def retimed(batch: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The events on cases of their own, dated now (the day's figures count them)."""
    now = datetime.now(UTC) - timedelta(hours=2)
    for event in batch:
        event["case_id"] = f"{tag}{event['case_id']}"
        shift = datetime.fromisoformat(event["at"]) - datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
        event["at"] = (now + shift / 1000).isoformat()
    return batch


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--live-rate", type=int, default=200)
    parser.add_argument("--live-s", type=float, default=20.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    server = None if args.redis_url else EmbeddedRedis(folder / "redis")
    url = args.redis_url or (server.url if server else "")
    client = redis.Redis.from_url(url)
    batch = events(args.events)
    print(f"bulk: {len(batch):,} events (cases reported, filed, dispatched, handled, closed)")
    try:
        ratio(client, f"sqlite:///{folder / 'bench.db'}", batch)
        if args.database_url:
            with own_schema(args.database_url) as database_url:
                ratio(client, database_url, batch)
        if args.live_s > 0:
            live(url, folder, args.live_rate, args.live_s)
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
