"""The ingest worker against a real Redis and SQLite: exactly once, nothing lost."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, func, select

from dashboard.ingest.worker import Ingest
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import make_engine
from dashboard.store.models import Case, EventRow
from streams.consumer import Handled, Item, Outage
from streams.names import dead_letter_key, push_channel
from streams.producer import new_event
from tests.stories import story

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def case_events(n: int, prefix: str = "C") -> list[dict[str, Any]]:
    """Reported, filed and dispatched events for n cases."""
    events = []
    for i in range(n):
        dispatched = T0 + timedelta(seconds=i, minutes=10)
        events += story(
            f"{prefix}{i:05d}",
            dispatched,
            "gardens",
            reported_before=timedelta(minutes=10),
            filed_before=timedelta(minutes=5),
        )
    return events


def make_ingest(
    client: redis.Redis, store: Store, settings: Settings, name: str, **options: Any
) -> Ingest:
    """An ingest worker on the test stream, without live push."""
    ingest = Ingest(
        client,
        store,
        None,
        stream=settings.stream_key,
        group=settings.consumer_group,
        name=name,
        batch_size=options.pop("batch_size", 100),
        **options,
    )
    ingest.consumer.ensure_group()
    return ingest


def drain(ingest: Ingest, limit: int = 1000) -> None:
    """Step the consumer until the stream has nothing more for it."""
    idle = 0
    for _ in range(limit):
        idle = idle + 1 if ingest.consumer.step() == 0 else 0
        if idle >= 2:
            return
    raise AssertionError("stream never drained")


def count(engine: Engine, what: Any) -> int:
    """Rows of a table."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(what)) or 0)


def dead_letters(client: redis.Redis, stream: str) -> list[dict[str, str]]:
    """The dead-letter entries, decoded."""
    return [
        {k.decode(): v.decode() for k, v in fields.items()}
        for _, fields in client.xrange(dead_letter_key(stream))
    ]


def pending(client: redis.Redis, settings: Settings) -> int:
    """Entries delivered to the group and not yet acknowledged."""
    return int(client.xpending(settings.stream_key, settings.consumer_group)["pending"])


def test_every_event_is_applied_once(redis_client, producer, store, engine, settings) -> None:
    """N published events become N history rows and their cases, all acknowledged."""
    producer.publish_many(case_events(400))
    drain(make_ingest(redis_client, store, settings, "a"))
    assert count(engine, EventRow) == 1200 and count(engine, Case) == 400
    assert pending(redis_client, settings) == 0
    assert dead_letters(redis_client, settings.stream_key) == []


def test_resent_events_change_nothing(redis_client, producer, store, engine, settings) -> None:
    """A producer resending the same event ids leaves the store as it was."""
    events = case_events(20)
    producer.publish_many(events)
    producer.publish_many(events)
    drain(make_ingest(redis_client, store, settings, "a"))
    assert count(engine, EventRow) == 60
    assert store.case("C00000").state == "dispatched"
    assert pending(redis_client, settings) == 0


def test_a_refused_event_leaves_no_history_and_its_resend_may_apply(
    redis_client, producer, store, engine, settings
) -> None:
    """Refused by the workflow: its row goes again; resent once the case allows, it applies."""
    reported, filed, dispatched = case_events(1)
    producer.publish_many([reported, dispatched, filed, dispatched])  # dispatched too early
    drain(make_ingest(redis_client, store, settings, "a"))
    assert count(engine, EventRow) == 3 and store.case("C00000").state == "dispatched"
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "case.dispatched is impossible" in letter["reason"]


@pytest.mark.postgres
def test_resends_and_refusals_on_postgresql(redis_client, producer, postgres_store, settings):
    """ON CONFLICT DO NOTHING decides what is new on PostgreSQL as on SQLite."""
    events = case_events(20)
    producer.publish_many([*events, *events, new_event("case.closed", "C00001", T0)])
    drain(make_ingest(redis_client, postgres_store, settings, "a"))
    assert count(postgres_store.engine, EventRow) == 60
    assert postgres_store.case("C00001").state == "dispatched"
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "case.closed is impossible" in letter["reason"]


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("{not json", "not valid JSON"),
        (
            json.dumps({"type": "case.filed", "at": "2026-11-22T09:00:00Z", "case_id": "x"}),
            "event_id",
        ),
        (json.dumps({**case_events(1)[0], "lon": "east"}), "lon must be a number"),
        (json.dumps({**case_events(1)[0], "type": "case.exploded"}), "type must be one of"),
    ],
)
def test_bad_input_goes_to_dead_letters(
    redis_client, producer, store, engine, settings, payload: str, words: str
) -> None:
    """Malformed or invalid entries are set aside with the reason; later ones apply."""
    producer.publish_raw(payload)
    producer.publish_many(case_events(2))
    drain(make_ingest(redis_client, store, settings, "a"))
    letters = dead_letters(redis_client, settings.stream_key)
    assert len(letters) == 1 and words in letters[0]["reason"]
    assert letters[0]["event"] == payload
    assert count(engine, Case) == 2 and pending(redis_client, settings) == 0


def test_impossible_transition_goes_to_dead_letters(
    redis_client, producer, store, engine, settings
) -> None:
    """Closing a case that was never dispatched is refused with a precise reason."""
    reported, filed, _ = case_events(1)
    producer.publish_many([reported, filed, new_event("case.closed", "C00000", T0)])
    drain(make_ingest(redis_client, store, settings, "a"))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "case.closed is impossible for case C00000 in state filed" in letter["reason"]
    assert letter["event_id"] and store.case("C00000").state == "filed"


def test_event_for_unknown_case_goes_to_dead_letters(
    redis_client, producer, store, settings
) -> None:
    """An event about a case never reported is set aside, not dropped."""
    producer.publish(new_event("case.filed", "NOPE", T0))
    drain(make_ingest(redis_client, store, settings, "a"))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "unknown case NOPE" in letter["reason"]


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs, nothing catches it."""


def dying(handler: Any, after_apply: bool) -> Any:
    """A handler that dies before (or right after) applying, and so before XACK."""

    def handle(items: Sequence[Item]) -> Handled:
        if after_apply:
            handler(items)
        raise Killed

    return handle


@pytest.mark.parametrize("after_apply", [False, True], ids=["before-commit", "after-commit"])
def test_second_consumer_reclaims_a_dead_ones_entries(
    redis_client, producer, store, engine, settings, after_apply: bool
) -> None:
    """Entries a consumer took and never acknowledged are reclaimed and applied once."""
    producer.publish_many(case_events(50))
    first = make_ingest(redis_client, store, settings, "first", batch_size=150)
    first.consumer.handler = dying(first.handle, after_apply)
    with pytest.raises(Killed):
        first.consumer.step()
    assert pending(redis_client, settings) == 150
    second = make_ingest(redis_client, store, settings, "second")
    drain(second)
    assert count(engine, EventRow) == 150 and count(engine, Case) == 50
    assert pending(redis_client, settings) == 0
    assert dead_letters(redis_client, settings.stream_key) == []


def test_database_outage_leaves_entries_pending(redis_client, producer, store, settings, rules):
    """With the database down nothing is acknowledged; once it is back all apply."""
    producer.publish_many(case_events(5))
    down = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), rules)
    ingest = make_ingest(redis_client, down, settings, "a")
    with pytest.raises(Outage):
        ingest.consumer.step()
    assert pending(redis_client, settings) == 15
    ingest.store = store
    drain(ingest)
    assert pending(redis_client, settings) == 0 and store.case("C00004") is not None


def test_worker_loop_survives_an_outage(redis_client, producer, store, settings, rules) -> None:
    """The run loop backs off through an outage instead of stopping."""
    import threading

    producer.publish_many(case_events(3))
    ingest = make_ingest(
        redis_client,
        Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), rules),
        settings,
        "a",
    )
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive() and ingest.consumer.backoff.failures >= 1
    ingest.store = store
    for _ in range(100):
        if store.case("C00002") is not None:
            break
        time.sleep(0.1)
    stop.set()
    thread.join(5)
    assert store.case("C00002") is not None and pending(redis_client, settings) == 0


def kpi_pushes(listener: Any, timeout: float) -> list[dict[str, Any]]:
    """The KPI pushes heard on the Socket.IO channel within `timeout` seconds."""
    heard, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=0.1)
        if message and message["type"] == "message":
            body = json.loads(message["data"])
            if body.get("event") == "kpis":
                heard.append(body["data"][0])  # the emit's arguments
    return heard


def test_month_rates_converge_after_a_burst_without_more_events(
    redis_client, redis_url, producer, store, settings
) -> None:
    """After the last event, the strip's month rates reach the true figures by themselves."""
    from dashboard.ingest.pusher import Pusher
    from dashboard.store import kpis

    listener = redis_client.pubsub()
    listener.subscribe(push_channel(settings.stream_key))
    ingest = Ingest(
        redis_client, store, Pusher(redis_url, settings.stream_key),
        stream=settings.stream_key, group=settings.consumer_group, name="w1",
        timezone="Asia/Shanghai", kpis_s=0.0, slow_s=1.0,
    )  # fmt: skip
    ingest.consumer.ensure_group()
    # Dispatched this month (the month's cohort), minutes apart, closed by now or soon.
    month = kpis.Period.month_of(datetime.now(UTC), "Asia/Shanghai")
    t = max(datetime.now(UTC) - timedelta(minutes=10), month.start + timedelta(seconds=1))
    # One case closed on time, so the month has a rate; pushed, the slow figures fresh.
    on_time = story("K1", t)
    on_time += [new_event("case.handled", "K1", t + timedelta(minutes=1))]
    on_time += [new_event("case.closed", "K1", t + timedelta(minutes=2))]
    producer.publish_many(on_time)
    drain(ingest)
    ingest.flush(force=True)
    # Right after, a case closed late: the next push's month rates are not due yet.
    late = story("K2", t, deadline=t + timedelta(minutes=1))
    late += [new_event("case.handled", "K2", t + timedelta(minutes=2))]
    late += [new_event("case.closed", "K2", t + timedelta(minutes=3))]
    producer.publish_many(late)
    drain(ingest)
    ingest.flush(force=True)
    with store.sessions() as session:
        truth = kpis.month_rates(session, datetime.now(UTC), "Asia/Shanghai")
    stale = kpi_pushes(listener, 0.3)[-1]["kpis"]
    assert (stale["closure_rate"], stale["on_time_rate"]) != (truth[0], truth[1])
    # No more events: the worker's loop alone brings the true rates within `slow_s`.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ingest.consumer.step()
        ingest.flush()
        heard = kpi_pushes(listener, 0.05)
        if heard and heard[-1]["kpis"]["on_time_rate"] == truth[1]:
            break
    else:
        raise AssertionError("the month rates never reached the true figures")
    assert heard[-1]["kpis"]["closure_rate"] == truth[0]


def test_lag_counts_what_the_group_has_not_finished_on_any_redis(
    redis_client, producer, store, settings
) -> None:
    """Undelivered and pending entries are counted even where XINFO has no `lag` (6.2).

    docs/screenshots.py and /healthz wait on this; the embedded Redis reports no
    `lag`, so a wait on XINFO's own field returned before the backfill was applied.
    """
    from streams.consumer import lag

    ingest = make_ingest(redis_client, store, settings, "w1")
    producer.publish_many(case_events(5))
    assert lag(redis_client, settings.stream_key, settings.consumer_group) == {
        "undelivered": 15,
        "pending": 0,
    }
    drain(ingest)
    assert lag(redis_client, settings.stream_key, settings.consumer_group) == {
        "undelivered": 0,
        "pending": 0,
    }
