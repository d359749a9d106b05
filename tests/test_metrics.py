"""Prometheus metrics: who may read them, what screens report, what ingest counts."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client import REGISTRY

from dashboard.app import App, create_app
from dashboard.domain.networks import address_allowed, networks_of
from dashboard.process import demo
from dashboard.runtime import StartupError, free_port
from dashboard.settings import Settings
from streams.names import EVENT_FIELD
from streams.producer import Producer
from streams.retention import trim
from tests.test_emergency import apply, raised
from tests.test_ingest import case_events, drain, make_ingest
from tests.test_security import without_message_queue
from tests.webclients import client_of, key_client, wall_client

SCRAPES = itertools.count()


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application, its live push in-process for Socket.IO's test client."""
    yield without_message_queue(create_app(settings, engine=engine, redis_url=settings.redis_url))


def value(text: str, sample: str) -> float:
    """One sample's value in an exposition, e.g. 'commandhall_stream_pending'; 0 if absent."""
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def scrape(app: App) -> str:
    """/metrics as an API key reads it."""
    response = key_client(app, f"prometheus-{next(SCRAPES)}").get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_metrics_are_not_for_anonymous_callers_by_default(app: App) -> None:
    """Without a key or session, /metrics is 401, even from loopback (a proxy's address)."""
    response = client_of(app).get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 401


def test_an_api_key_reads_metrics(app: App) -> None:
    """An integration's API key (the Prometheus scrape's bearer token) reads /metrics."""
    assert "commandhall_stream_pending 0.0" in scrape(app)


def test_an_allowed_address_reads_metrics_without_a_key(settings: Settings, engine) -> None:
    """--metrics-allow lets its networks in without a key; other addresses stay out."""
    changed = settings.with_(metrics_allow="10.1.0.0/16 192.168.5.7")
    client = client_of(create_app(changed, engine=engine, redis_url=settings.redis_url))
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.5.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 401


def test_allowed_addresses_are_whole_networks_and_loopback_only_when_said() -> None:
    """The ingest endpoint lets loopback in; /metrics only the listed networks."""
    listed = networks_of("10.1.0.0/16 fd00::/8")
    assert address_allowed("10.1.255.1", listed, loopback=False)
    assert address_allowed("fd00::5", listed, loopback=False)
    assert not address_allowed("127.0.0.1", listed, loopback=False)
    assert address_allowed("127.0.0.1", [], loopback=True)
    assert not address_allowed("not an address", listed, loopback=True)


def test_a_bad_allow_list_is_a_start_up_error(settings: Settings, engine) -> None:
    """A typo in --metrics-allow stops the start with its name, not a 500 per scrape."""
    with pytest.raises(StartupError, match="--metrics-allow"):
        create_app(settings.with_(metrics_allow="10.0.0.0/33"), engine=engine)


def test_a_wall_reports_its_push_delays(app: App) -> None:
    """A display's report lands in the latency histogram for its view; the answer has now."""
    first = scrape(app)
    slow = 'commandhall_push_latency_seconds_bucket{le="1.0",view="wall"}'
    before = value(first, 'commandhall_push_latency_seconds_count{view="wall"}')
    wall, _ = wall_client(app)
    report = {"view": "wall", "delays_ms": [20, 40, 1500]}
    response = wall.post("/api/screens/latency", json=report)
    assert response.status_code == 200 and response.get_json()["recorded"] == 3
    assert isinstance(response.get_json()["now"], int)
    text = scrape(app)
    assert value(text, 'commandhall_push_latency_seconds_count{view="wall"}') == before + 3
    assert value(text, slow) == value(first, slow) + 2  # 1.5 s is above the 1 s bucket


@pytest.mark.parametrize(
    "report",
    [
        {"view": "wall", "delays_ms": [1] * 301},
        {"view": "wall", "delays_ms": [-5]},
        {"view": "wall", "delays_ms": [700_000]},
        {"view": "wall", "delays_ms": ["12"]},
        {"view": "wall", "delays_ms": [True]},
        {"view": "wall"},
        ["not", "an", "object"],
    ],
    ids=["too many", "negative", "too long", "text", "bool", "missing", "list"],
)
def test_a_bad_report_is_refused_and_records_nothing(app: App, report) -> None:
    """Reports are bounded and checked: anything else is 400 and changes no figure."""
    wall, _ = wall_client(app)
    before = scrape(app)
    assert wall.post("/api/screens/latency", json=report).status_code == 400
    sample = 'commandhall_push_latency_seconds_count{view="wall"}'
    assert value(scrape(app), sample) == value(before, sample)


def test_a_report_without_a_length_or_too_big_is_refused(app: App) -> None:
    """A body over 16 KiB is refused before it is read."""
    wall, _ = wall_client(app)
    body = json.dumps({"view": "wall", "delays_ms": [1] * 200, "pad": "x" * 20_000})
    response = wall.post("/api/screens/latency", data=body, content_type="application/json")
    assert response.status_code == 413


def test_an_unknown_view_is_counted_as_other(app: App) -> None:
    """Labels stay few whatever a client sends."""
    wall, _ = wall_client(app)
    wall.post("/api/screens/latency", json={"view": "x" * 50, "delays_ms": [5]})
    assert value(scrape(app), 'commandhall_push_latency_seconds_count{view="other"}') >= 1


def test_connected_screens_are_counted_by_view(app: App) -> None:
    """A Socket.IO connection counts under the view its page names, until it goes."""
    sample = 'commandhall_screens_connected{view="desk"}'
    before = value(scrape(app), sample)
    wall, _ = wall_client(app)
    live = app.socketio.test_client(app.server, flask_test_client=wall, auth={"view": "desk"})
    assert live.is_connected()
    assert value(scrape(app), sample) == before + 1
    live.disconnect()
    assert value(scrape(app), sample) == before


def test_the_emergency_level_is_exported(app: App) -> None:
    """0 without an emergency; the signal's rank (orange = 4) while one is in force."""
    assert value(scrape(app), "commandhall_emergency_level") == 0
    apply(app.store, raised("orange"))
    assert value(scrape(app), "commandhall_emergency_level") == 4


def test_stream_figures_and_heartbeat_are_exported(app: App, producer, redis_client) -> None:
    """Lag, lengths and the heartbeat's age come from Redis at the scrape."""
    producer.publish_many(case_events(3))
    text = scrape(app)
    assert value(text, 'commandhall_stream_length{stream="cases"}') == 9
    assert value(text, "commandhall_ingest_heartbeat_age_seconds") == float("inf")
    make_ingest(redis_client, app.store, app.settings, "a").consumer.step()
    text = scrape(app)
    assert value(text, "commandhall_stream_undelivered") == 0
    assert 0 <= value(text, "commandhall_ingest_heartbeat_age_seconds") < 5
    assert value(text, 'commandhall_up{part="redis"}') == 1


def count(event_type: str, outcome: str) -> float:
    """The ingest counter of this process."""
    labels = {"type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("commandhall_events_total", labels) or 0.0


def test_ingest_counts_applied_duplicate_and_dead_lettered_by_type(
    redis_client, producer, store, settings
) -> None:
    """Each event is counted once under its type and what became of it."""
    before = {o: count("case.reported", o) for o in ("applied", "duplicate", "dead_lettered")}
    invalid, batches = count("invalid", "dead_lettered"), _batches()
    events = case_events(2)
    producer.publish_many(events + [events[0]])  # the first report sent twice
    redis_client.xadd(settings.stream_key, {EVENT_FIELD: "not json"})
    producer.publish({**events[3], "event_id": "again"})  # C00001 reported twice: refused
    drain(make_ingest(redis_client, store, settings, "a"))
    assert count("case.reported", "applied") == before["applied"] + 2
    assert count("case.dispatched", "applied") >= 2
    assert count("case.reported", "duplicate") == before["duplicate"] + 1
    assert count("invalid", "dead_lettered") == invalid + 1
    assert count("case.reported", "dead_lettered") == before["dead_lettered"] + 1
    assert _batches() > batches


def _batches() -> float:
    return REGISTRY.get_sample_value("commandhall_batch_apply_seconds_count") or 0.0


def pids_with_latency(folder: Path) -> set[str]:
    """The web workers that wrote latency samples into the multiprocess folder."""
    return {path.stem.split("_")[-1] for path in folder.glob("histogram_*.db")}


def test_two_web_workers_add_up_and_ingest_has_its_own_endpoint(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real `serve --workers 2` and `ingest`: every scrape of the web adds up both workers'
    reports, whichever answers; the worker's counts are on its own port, not the web's."""
    folder, shared = tmp_path / "hall", tmp_path / "prometheus"
    folder.mkdir(), shared.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    settings = Settings(
        data_dir=str(folder), redis_url=redis_url, port=free_port(),
        stream_key=f"test:{uuid.uuid4().hex[:12]}:cases",
        metrics_allow="127.0.0.1", ingest_metrics_port=free_port(),
    )  # fmt: skip
    _, token = demo.prepare(settings, folder)
    children = [
        demo.spawn(settings, "--log-level", "WARNING", "ingest"),
        demo.spawn(settings, "--log-level", "WARNING", "serve", "--workers", "2"),
    ]
    base, close = f"http://127.0.0.1:{settings.port}", {"Connection": "close"}
    try:
        assert demo.wait_healthy(settings, children)
        cookies = requests.get(f"{base}/wall/?token={token}", headers=close).cookies
        posts = 0
        while len(pids_with_latency(shared)) < 2:  # new connections spread over the workers
            assert posts < 300, "one worker took every connection"
            report = {"view": "wall", "delays_ms": [10, 30]}
            answer = requests.post(f"{base}/api/screens/latency", json=report,
                                   cookies=cookies, headers={**close, "Origin": base})  # fmt: skip
            assert answer.status_code == 200, answer.text
            posts += 1
        for _ in range(8):
            text = requests.get(f"{base}/metrics", headers=close).text
            assert value(text, 'commandhall_push_latency_seconds_count{view="wall"}') == 2 * posts
            assert "commandhall_events_total" not in text
        Producer(redis.Redis.from_url(redis_url), settings.stream_key).publish_many(case_events(2))
        own = f"http://127.0.0.1:{settings.ingest_metrics_port}/metrics"
        applied = 'commandhall_events_total{outcome="applied",type="case.reported"}'
        deadline = time.monotonic() + 30
        while value(requests.get(own, headers=close).text, applied) != 2:
            assert time.monotonic() < deadline, requests.get(own).text
            time.sleep(0.3)
    finally:
        demo.stop_all(children)


def test_retention_figures_are_exported(app: App, redis_client) -> None:
    """What retention trimmed, and what is left, per stream."""
    stream = app.settings.stream_key
    old = int((time.time() - 10 * 86_400) * 1000)
    for i in range(4):
        redis_client.xadd(stream, {EVENT_FIELD: "{}"}, id=f"{old}-{i}")
    redis_client.xgroup_create(stream, "g", id="$")  # as if all were read and acknowledged
    trim(redis_client, stream, 7 * 86_400, exact=True)
    text = scrape(app)
    assert value(text, 'commandhall_stream_trimmed_entries_total{stream="cases"}') == 4
    assert value(text, 'commandhall_stream_length{stream="cases"}') == 0
