"""Ingest throughput: events applied per second, next to raw XREADGROUP+XACK.

    .venv/bin/python bench/ingest.py [--events 50000] [--redis-url URL] [--database-url URL]

Publishes the same events into two streams of one Redis, drains one with a bare
consumer loop (read 500, ack 500: the ceiling Redis itself sets) and the other with
the real ingest worker (parse, apply in SQL, acknowledge), and prints both rates.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from dashboard.domain.city import city_rules
from dashboard.ingest.worker import Ingest
from dashboard.runtime import EmbeddedRedis
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
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


def raw_rate(client: redis.Redis, stream: str, count: int) -> float:
    """Entries per second through XREADGROUP + XACK alone."""
    client.xgroup_create(stream, "raw", id="0", mkstream=True)
    started, done = time.perf_counter(), 0
    while done < count:
        reply = client.xreadgroup("raw", "c", {stream: ">"}, count=500)
        ids = [entry_id for _, batch in reply for entry_id, _ in batch]
        client.xack(stream, "raw", *ids)
        done += len(ids)
    return done / (time.perf_counter() - started)


def ingest_rate(client: redis.Redis, stream: str, database_url: str, count: int) -> float:
    """Events per second through the ingest worker into the database."""
    engine = make_engine(database_url)
    init_db(engine)
    store = Store(engine, city_rules(Settings()))
    ingest = Ingest(client, store, None, stream=stream, group="bench", name="bench")
    ingest.consumer.ensure_group()
    started = time.perf_counter()
    while ingest.consumer.step():
        pass
    return count / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    server = None if args.redis_url else EmbeddedRedis(folder / "redis")
    url = args.redis_url or (server.url if server else "")
    client = redis.Redis.from_url(url)
    database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    batch = events(args.events)
    tag = uuid.uuid4().hex[:8]
    for name in ("raw", "ingest"):
        Producer(client, f"bench:{tag}:{name}").publish_many(batch)
    raw = raw_rate(client, f"bench:{tag}:raw", len(batch))
    applied = ingest_rate(client, f"bench:{tag}:ingest", database_url, len(batch))
    print(f"events:                 {len(batch)}")
    print(f"redis XREADGROUP+XACK:  {raw:,.0f} entries/s")
    print(f"ingest applied:         {applied:,.0f} events/s  ({database_url.split(':')[0]})")
    client.delete(f"bench:{tag}:raw", f"bench:{tag}:ingest")
    if server:
        server.stop()


if __name__ == "__main__":
    main()
