"""PostgreSQL drops the worker's connections again and again while events flow."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashboard.store.batch import Store
from streams.producer import Producer
from tests.faults.lifecycles import interleaved, per_case
from tests.faults.processes import (
    Workers,
    applied_cases,
    fault_settings,
    letters,
    report,
    wait_until,
)

pytestmark = pytest.mark.postgres


def worker_url(store: Store, application: str) -> str:
    """The fixture's database as a URL a child process can use: same schema, a name."""
    with store.engine.connect() as connection:
        schema = connection.scalar(text("SELECT current_schema()"))
    url = make_url(store.engine.url).render_as_string(hide_password=False)
    options = quote(f"-csearch_path={schema}")
    return f"{url}?application_name={application}&options={options}"


def terminate(store: Store, application: str) -> int:
    """End every backend of the application; how many."""
    with store.engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": application},
        ).scalar()
    return int(ended or 0)


def test_ingest_rides_out_a_postgres_outage(tmp_path: Path, redis_url: str, postgres_store):
    """Connections killed for seconds on end: every event still applies once, in order."""
    application = f"fault-{uuid.uuid4().hex[:8]}"
    settings = fault_settings(
        tmp_path, redis_url, batch_size=50, database_url=worker_url(postgres_store, application)
    )
    client = redis.Redis.from_url(redis_url)
    events = interleaved(200, seed=11, prefix="P")
    producer = Producer(client, settings.stream_key)
    workers = Workers(settings)
    workers.start("pg")
    engine = postgres_store.engine
    killed, stop = [0], threading.Event()

    def publish() -> None:
        for start in range(0, len(events), 25):
            producer.publish_many(events[start : start + 25])
            time.sleep(0.1)

    def outage() -> None:  # the database answers, then drops everyone, for 6 s
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not stop.is_set():
            killed[0] += terminate(postgres_store, application)
            time.sleep(0.05)

    publisher = threading.Thread(target=publish)
    try:
        publisher.start()
        wait_until(lambda: len(applied_cases(engine)) > 5, 60, "ingest started")
        outage_thread = threading.Thread(target=outage)
        outage_thread.start()
        outage_thread.join()
        ended = time.monotonic()
        publisher.join(60)
        total = len(events)
        wait_until(
            lambda: sum(map(len, applied_cases(engine).values())) >= total, 90, "all applied"
        )
        recovery = time.monotonic() - ended
        alive = workers.alive()
    finally:
        stop.set()
        workers.stop()
    stored = applied_cases(engine)
    dead = letters(client, settings.stream_key)
    out_of_order = sum(stored.get(c) != ids for c, ids in per_case(events).items())
    report(
        "postgres-outage",
        events=len(events),
        backends_terminated=killed[0],
        applied=sum(map(len, stored.values())),
        out_of_order_cases=out_of_order,
        dead_lettered=len(dead),
        stalls=0 if alive else 1,
        recovery_s=round(recovery, 1),
    )
    assert killed[0] > 0, "the outage never hit the worker"
    assert dead == [] and out_of_order == 0 and alive
