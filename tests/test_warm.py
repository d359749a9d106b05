"""The warm snapshot: read from the database once, then kept by the pushes it hears.

A real web app (its message-queue listener on the real Redis), a real ingest worker
pushing what it applies; the snapshot a screen rebuilds from /api/snapshot (body,
then its pushes in order, as live.js applies them) must equal a fresh reading of
the database, without the database being read again.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from dashboard.app import create_app
from dashboard.domain.access import Role
from dashboard.ingest.pusher import Pusher
from dashboard.ingest.worker import Ingest
from dashboard.settings import Settings
from dashboard.store.snapshot import open_cases
from dashboard.web.context import App
from streams.names import CaseState, Push, push_sequence_key
from streams.producer import Producer, new_event
from tests.stories import story
from tests.webclients import signed_in

OPEN = {state.value for state in CaseState if state.is_open}


@pytest.fixture
def app(settings: Settings, engine: Any) -> Iterator[App]:
    """The web application on the test database and Redis."""
    yield create_app(settings, engine=engine, redis_url=settings.redis_url)


@pytest.fixture
def client(app: App) -> FlaskClient:
    """A commander's session."""
    return signed_in(app, "duty", Role.COMMANDER)


@pytest.fixture
def ingest(app: App, settings: Settings, redis_client: redis.Redis) -> Ingest:
    """The real ingest worker, pushing through the Socket.IO channel."""
    worker = Ingest(
        redis_client,
        app.store,
        Pusher(settings.redis_url, settings.stream_key),
        stream=settings.stream_key,
        group=settings.consumer_group,
        name="warm-test",
        coalesce_s=0,
    )
    worker.consumer.ensure_group()
    return worker


def drain(ingest: Ingest) -> None:
    """Apply everything on the stream and push it."""
    for _ in range(100):
        if ingest.consumer.step() == 0:
            break
    ingest.flush(force=True)


def screen(body: dict[str, Any]) -> dict[str, list[Any]]:
    """The open cases a screen holds after applying a snapshot: body, then pushes."""
    cols = body["cases"]["cols"]
    cases = {row[0]: row for row in body["cases"]["rows"]}
    for event, message in body["pushes"]:
        for case in message.get("cases", []) if event == Push.CASES.value else []:
            if case["st"] in OPEN:
                cases[case["id"]] = [case.get(column) for column in cols]
            else:
                cases.pop(case["id"], None)
    return cases


def until(check: Callable[[], Any], timeout: float = 15) -> Any:
    """Poll until check() is truthy (the listener hears pushes on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("never happened")


def fresh(app: App) -> dict[str, list[Any]]:
    """The open cases read from the database now."""
    with app.store.sessions() as session:
        return {row[0]: row for row in open_cases(session)["rows"]}


def get(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/snapshot")
    assert response.status_code == 200
    return json.loads(response.get_data())


def publish(producer: Producer, *events: dict[str, Any]) -> None:
    for event in events:
        producer.publish(event)


def test_pushes_keep_it_without_reading_the_database_again(
    app: App, client: FlaskClient, ingest: Ingest, producer: Producer
) -> None:
    """Cases opened, changed and closed after the first reading reach the snapshot."""
    at = datetime.now(UTC) - timedelta(minutes=30)
    publish(producer, *story("W1", at), *story("W2", at))
    drain(ingest)
    assert set(until(lambda: screen(get(client)))) == {"W1", "W2"}
    assert app.warm is not None and app.warm.reads == 1
    publish(producer, *story("W3", at), new_event("case.handled", "W1"))
    publish(producer, new_event("case.verified", "W1", passed=True), new_event("case.closed", "W1"))
    publish(producer, new_event("case.urged", "W2", by="duty", note="faster, please"))
    drain(ingest)
    expected = fresh(app)
    assert set(expected) == {"W2", "W3"}
    assert until(lambda: screen(get(client)) == expected)
    assert app.warm.reads == 1  # every change came by push


def test_its_body_is_rewritten_behind_and_the_pushes_fill_the_gap(
    app: App, client: FlaskClient, ingest: Ingest, producer: Producer
) -> None:
    """Between rewrites a request gets the body at its position and every later push,
    numbered on from it; gzipped, the same JSON."""
    assert app.warm is not None
    app.warm.rebuild_s = 3600.0
    first = get(client)
    at = datetime.now(UTC) - timedelta(minutes=30)
    publish(producer, *story("T1", at))
    drain(ingest)
    publish(producer, *story("T2", at))
    drain(ingest)
    later = until(lambda: (body := get(client)) and len(screen(body)) == 2 and body)
    assert later["seq"] == first["seq"]
    numbers = [message["seq"] for _, message in later["pushes"]]
    assert numbers == list(range(first["seq"] + 1, first["seq"] + 1 + len(numbers)))
    zipped = client.get("/api/snapshot", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    unzipped = json.loads(gzip.decompress(zipped.get_data()))
    # The same body; a push (the KPIs after the cases) may have come in between.
    assert unzipped["cases"] == later["cases"] and unzipped["seq"] == later["seq"]
    assert unzipped["pushes"][: len(later["pushes"])] == later["pushes"]
    app.warm.rebuild_s = 0.0
    rewritten = get(client)
    assert rewritten["pushes"] == [] and rewritten["seq"] == numbers[-1]
    assert screen(rewritten) == fresh(app)


def test_a_push_out_of_turn_makes_it_read_again(
    app: App, client: FlaskClient, ingest: Ingest, producer: Producer, redis_client: redis.Redis
) -> None:
    """Numbers skipped (pushes this process never heard) make the next request read
    the database; what it serves is right again."""
    get(client)
    assert app.warm is not None and app.warm.reads == 1
    redis_client.hincrby(
        push_sequence_key(app.settings.stream_key), "seq", 3
    )  # three pushes lost on the way
    publish(producer, *story("G1", datetime.now(UTC) - timedelta(minutes=30)))
    drain(ingest)
    until(lambda: get(client) and app.warm is not None and app.warm.reads == 2)
    assert screen(get(client)) == fresh(app) and "G1" in fresh(app)


def test_the_emergency_and_kpis_follow_their_pushes(
    app: App, client: FlaskClient, ingest: Ingest, producer: Producer
) -> None:
    """An emergency raised after the first reading is in the snapshot's state."""
    assert get(client)["emergency"] is None
    publish(producer, new_event("emergency.raised", hazard="typhoon", level="red"))
    drain(ingest)

    def level() -> str | None:
        body = get(client)
        current = body["emergency"]
        for event, message in body["pushes"]:
            if event == Push.EMERGENCY.value:
                current = message["emergency"]
        return (current or {}).get("level")

    assert until(level) == "red"
    assert app.warm is not None and app.warm.reads == 1
