"""/healthz tells the truth about ingest: not 200 while it is stuck, stalled or behind;
its figures only to admins, API keys and the addresses of --metrics-allow."""

from __future__ import annotations

import threading
import time

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.process import demo
from dashboard.runtime import EmbeddedRedis
from dashboard.store.batch import Store
from dashboard.store.db import make_engine
from tests.test_ingest import case_events, make_ingest
from tests.webclients import client_of, key_client, signed_in, wall_client

PROBE = "127.0.0.1"  # the test client's address, let read the figures (--metrics-allow)


def health(settings, engine, **changes) -> FlaskClient:
    """A test client, from an address allowed the figures, of an app with some settings
    changed."""
    changes.setdefault("metrics_allow", PROBE)
    app = create_app(settings.with_(**changes), engine=engine, redis_url=settings.redis_url)
    return app.server.test_client()


def test_no_worker_is_stuck(settings, engine) -> None:
    """Without any ingest worker's heartbeat /healthz answers 503 and says why."""
    response = health(settings, engine).get("/healthz")
    assert response.status_code == 503
    assert "no ingest worker" in response.get_json()["problems"][0]


def test_a_worker_that_keeps_up_is_healthy(redis_client, store, settings, engine) -> None:
    """A worker that has stepped and left nothing waiting makes /healthz 200."""
    make_ingest(redis_client, store, settings, "a").consumer.step()
    response = health(settings, engine).get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ingest"]["consumer"] == "a"


def wait_for(client: FlaskClient, path: str, status: int, timeout: float) -> dict:
    """Poll `path` until it answers `status`; its body."""
    deadline = time.monotonic() + timeout
    while (response := client.get(path)).status_code != status:
        assert time.monotonic() < deadline, (path, response.status_code, response.get_json())
        time.sleep(0.2)
    return response.get_json()


def test_a_killed_worker_is_not_ready_within_the_timeout(settings, engine) -> None:
    """SIGKILL the real `commandhall ingest`: ready is 503 within the heartbeat timeout,
    long before its status expires, naming the worker last heard from; live stays 200."""
    settings = settings.with_(heartbeat_timeout_s=2.0)
    worker = demo.spawn(settings, "--log-level", "WARNING", "ingest", "--name", "doomed")
    client = health(settings, engine)
    try:
        assert wait_for(client, "/healthz/ready", 200, 60)["heard"]["consumer"] == "doomed"
    finally:
        worker.kill()
        worker.wait()
    killed = time.monotonic()
    body = wait_for(client, "/healthz/ready", 503, 30)
    assert time.monotonic() - killed < 8  # the status itself lives 15 s after death
    assert body["heard"]["consumer"] == "doomed" and body["heard"]["age_s"] > 2.0
    assert "last from doomed" in body["problems"][0]
    full = client.get("/healthz")
    assert full.status_code == 503 and full.get_json()["heard"]["consumer"] == "doomed"
    assert client.get("/healthz/live").status_code == 200


def test_live_answers_without_redis(settings, engine, tmp_path) -> None:
    """Liveness is the process alone: with Redis stopped it is 200, ready is 503."""
    server = EmbeddedRedis(tmp_path / "redis")
    allowed = settings.with_(metrics_allow=PROBE)
    client = create_app(allowed, engine=engine, redis_url=server.url).server.test_client()
    server.stop()
    assert client.get("/healthz/live").status_code == 200
    body = client.get("/healthz/ready").get_json()
    assert body["ok"] is False and body["problems"] == ["redis unreachable"]


def test_a_worker_far_behind_is_reported(redis_client, producer, store, settings, engine):
    """More entries waiting than max_lag makes /healthz 503 'behind'."""
    producer.publish_many(case_events(5))
    make_ingest(redis_client, store, settings, "a", batch_size=3).consumer.step()
    body = health(settings, engine, max_lag=4).get("/healthz").get_json()
    assert body["ok"] is False and any(p.startswith("behind") for p in body["problems"])


def test_a_worker_without_progress_is_stalled(redis_client, producer, settings, engine, rules):
    """A worker retrying through a database outage longer than stall_s is 'stalled'."""
    producer.publish_many(case_events(2))
    down = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), rules)
    ingest = make_ingest(redis_client, down, settings, "a")
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    try:
        client = health(settings, engine, stall_s=0.5)
        deadline = time.monotonic() + 20
        body = client.get("/healthz").get_json()
        while not any(p.startswith("stalled") for p in body["problems"]):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
            body = client.get("/healthz").get_json()
        assert "database unreachable" in body["ingest"]["error"]
    finally:
        stop.set()
        thread.join(10)


def test_healthz_reports_the_calendars_reach_and_a_missing_year(
    settings, engine, monkeypatch
) -> None:
    """On 5 Dec 2026 the shipped calendar covers until 31 Dec and lacks 2027."""
    from datetime import date

    from dashboard.web import calendarstatus

    monkeypatch.setattr(calendarstatus, "city_today", lambda app: date(2026, 12, 5))
    body = health(settings, engine).get("/healthz").get_json()
    assert body["calendar"]["covered_until"] == "2026-12-31"
    assert body["calendar"]["warning"] is True
    assert body["calendar"]["missing"][0].startswith("2027: no published schedule")


def test_a_worker_retrying_an_outage_is_stalled_not_gone(
    redis_client, producer, settings, engine, rules
) -> None:
    """Between long retries the worker still beats: /healthz says stalled, not stuck."""
    producer.publish_many(case_events(1))
    down = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), rules)
    ingest = make_ingest(redis_client, down, settings, "a")
    ingest.consumer.backoff.next_delay = lambda: 6.0  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    try:
        client = health(settings, engine, stall_s=0.5, heartbeat_timeout_s=2.0)
        while client.get("/healthz").get_json()["ingest"] is None:
            time.sleep(0.1)  # its first failure is its first heartbeat
        deadline = time.monotonic() + 5  # well into the 6 s pause
        while time.monotonic() < deadline:
            problems = client.get("/healthz").get_json()["problems"]
            assert problems and not problems[0].startswith("stuck"), problems
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture
def app(settings, engine) -> App:
    """An app with no address allowed the figures (the default)."""
    return create_app(settings, engine=engine, redis_url=settings.redis_url)


@pytest.mark.parametrize("path", ["/healthz", "/healthz/ready"])
def test_a_stranger_hears_only_the_status(app: App, path: str) -> None:
    """Anonymous: `{"status": "unhealthy"}` and 503, no consumer, no error text."""
    response = client_of(app).get(path)
    assert (response.status_code, response.get_json()) == (503, {"status": "unhealthy"})


def test_a_stranger_hears_ok_when_healthy(app: App, redis_client, store, settings) -> None:
    """Anonymous and healthy: `{"status": "ok"}` and 200, nothing else."""
    make_ingest(redis_client, store, settings, "a").consumer.step()
    response = client_of(app).get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_live_says_only_that_the_process_answers(app: App) -> None:
    """/healthz/live: `{"status": "ok"}`."""
    assert client_of(app).get("/healthz/live").get_json() == {"status": "ok"}


def test_database_and_redis_errors_never_reach_a_stranger(settings, engine, tmp_path) -> None:
    """With Redis gone, the error text goes to the allowed address only."""
    server = EmbeddedRedis(tmp_path / "redis")
    app = create_app(settings, engine=engine, redis_url=server.url)
    server.stop()
    assert client_of(app).get("/healthz").get_json() == {"status": "unhealthy"}
    client = key_client(app, "probe")
    assert "redis_error" in client.get("/healthz").get_json()


def test_an_admin_and_an_api_key_see_the_figures(app: App) -> None:
    """A signed-in admin and an API key read consumers and problems."""
    for client in (signed_in(app, "root", Role.ADMIN), key_client(app, "probe")):
        body = client.get("/healthz").get_json()
        assert body["status"] == "unhealthy" and "no ingest worker" in body["problems"][0]
        assert "consumer" in client.get("/healthz/ready").get_json()


def test_other_people_and_walls_see_only_the_status(app: App) -> None:
    """A commander, a viewer and a wall's display session hear the status alone."""
    wall, _ = wall_client(app)
    for client in (signed_in(app, "duty", Role.COMMANDER), signed_in(app, "v", Role.VIEWER), wall):
        assert client.get("/healthz").get_json() == {"status": "unhealthy"}


def test_an_address_of_metrics_allow_sees_the_figures(settings, engine) -> None:
    """--metrics-allow 127.0.0.0/8: the prober's address reads everything without a key."""
    body = health(settings, engine, metrics_allow="127.0.0.0/8").get("/healthz").get_json()
    assert body["status"] == "unhealthy" and body["redis"] is True and body["problems"]
