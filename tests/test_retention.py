"""Stream retention against a real Redis: old acknowledged entries go, nothing else."""

from __future__ import annotations

import json
import logging
import threading
import time

import redis

from dashboard.process.retention import StreamRetention
from dashboard.settings import Settings
from dashboard.store.batch import Store
from streams.names import EVENT_FIELD, dead_letter_key, lane_key
from streams.retention import read_trimmed, trim
from tests.test_ingest import case_events, make_ingest

DAY_S = 86_400.0
NOW = time.time()


def add_days_ago(client: redis.Redis, stream: str, days: float, n: int) -> list[str]:
    """n entries whose ids say they were added `days` ago (ids are times in Redis)."""
    start = int((NOW - days * DAY_S) * 1000)
    return [client.xadd(stream, {EVENT_FIELD: "{}"}, id=f"{start}-{i}").decode() for i in range(n)]


def consume(client: redis.Redis, stream: str, group: str, count: int, ack: int) -> list[str]:
    """Read `count` entries as `group` and acknowledge the first `ack` of them."""
    client.xgroup_create(stream, group, id="0", mkstream=True)
    reply = client.xreadgroup(group, "c", {stream: ">"}, count=count)
    ids = [entry_id.decode() for entry_id, _ in reply[0][1]]
    if ack:
        client.xack(stream, group, *ids[:ack])
    return ids


def ids_of(client: redis.Redis, stream: str) -> list[str]:
    """Every id left in the stream."""
    return [entry_id.decode() for entry_id, _ in client.xrange(stream)]


def test_old_acknowledged_entries_are_trimmed_recent_ones_kept(redis_client, stream_key) -> None:
    """Entries past the retention that the group acknowledged go; younger ones stay."""
    old = add_days_ago(redis_client, stream_key, 8, 3)
    recent = add_days_ago(redis_client, stream_key, 1, 2)
    consume(redis_client, stream_key, "g", 10, ack=5)
    done = trim(redis_client, stream_key, 7 * DAY_S, exact=True, now=NOW)
    assert (done.removed, done.length) == (len(old), len(recent))
    assert ids_of(redis_client, stream_key) == recent
    assert read_trimmed(redis_client, stream_key) == 3


def test_pending_entries_are_never_trimmed(redis_client, stream_key) -> None:
    """An old entry delivered but not acknowledged stays, and so does all after it."""
    old = add_days_ago(redis_client, stream_key, 30, 5)
    consume(redis_client, stream_key, "g", 5, ack=2)  # the third is pending
    trim(redis_client, stream_key, 7 * DAY_S, exact=True, now=NOW)
    assert ids_of(redis_client, stream_key) == old[2:]


def test_entries_a_slower_group_has_not_read_are_never_trimmed(redis_client, stream_key) -> None:
    """The slowest group decides: what it was not yet given stays, however old."""
    old = add_days_ago(redis_client, stream_key, 30, 6)
    consume(redis_client, stream_key, "fast", 6, ack=6)
    consume(redis_client, stream_key, "slow", 2, ack=2)  # 4 not yet delivered to it
    trim(redis_client, stream_key, 7 * DAY_S, exact=True, now=NOW)
    assert ids_of(redis_client, stream_key) == old[2:]


def test_a_stream_nobody_consumes_is_not_trimmed(redis_client, stream_key) -> None:
    """Without a consumer group nothing says who has read the stream: it is kept."""
    old = add_days_ago(redis_client, stream_key, 30, 3)
    assert trim(redis_client, stream_key, 7 * DAY_S, exact=True, now=NOW).removed == 0
    assert ids_of(redis_client, stream_key) == old


def test_approximate_trimming_never_goes_past_the_bound(redis_client, stream_key) -> None:
    """Trimming by whole nodes may keep more than the bound says, never less."""
    old = add_days_ago(redis_client, stream_key, 30, 1000)
    consume(redis_client, stream_key, "g", 1000, ack=600)
    done = trim(redis_client, stream_key, 7 * DAY_S, now=NOW)
    assert done.bound == old[600] and done.removed > 0  # whole 100-entry nodes went
    assert ids_of(redis_client, stream_key)[-400:] == old[600:]


def test_dead_letters_are_trimmed_by_their_retention(redis_client, stream_key, caplog) -> None:
    """The dead-letter stream has no group: its retention alone decides; it is logged."""
    caplog.set_level(logging.INFO, logger="dashboard.process.retention")
    dead = dead_letter_key(stream_key)
    add_days_ago(redis_client, dead, 40, 2)
    kept = add_days_ago(redis_client, dead, 10, 1)
    trimmed = StreamRetention(redis_client, stream_key, 7, 30, exact=True)()
    assert [t.removed for t in trimmed] == [0, 0, 2]  # stream, lane, dead letters
    assert ids_of(redis_client, dead) == kept
    assert f"Retention {dead}: 2 entries trimmed" in caplog.text and "1 left" in caplog.text


def test_the_active_worker_trims_what_it_applied(
    redis_client, stream_key, store: Store, settings: Settings
) -> None:
    """A running ingest worker trims old applied entries in its housekeeping; new stay."""
    events = case_events(40)
    start = int((NOW - 8 * DAY_S) * 1000)
    for i, event in enumerate(events):  # ids of 8 days ago, as if applied since then
        redis_client.xadd(stream_key, {EVENT_FIELD: json.dumps(event)}, id=f"{start}-{i}")
    fresh = redis_client.xadd(stream_key, {EVENT_FIELD: json.dumps(case_events(1, "N")[0])})
    retention = StreamRetention(redis_client, stream_key, 7, 30, every_s=0.2, exact=True)
    ingest = make_ingest(redis_client, store, settings, "a", housekeeping=retention)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while redis_client.xlen(stream_key) > 1:
            assert time.monotonic() < deadline, redis_client.xlen(stream_key)
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
    assert ids_of(redis_client, stream_key) == [fresh.decode()]
    assert read_trimmed(redis_client, stream_key) == len(events)


def test_the_emergency_lane_is_trimmed_like_its_stream(redis_client, stream_key) -> None:
    """The lane's applied old entries go; one still pending stays with all after it."""
    lane = lane_key(stream_key)
    old = add_days_ago(redis_client, lane, 10, 4)
    consume(redis_client, lane, "commandhall", 4, ack=2)  # the third is pending
    StreamRetention(redis_client, stream_key, 7, 30, exact=True)()
    assert ids_of(redis_client, lane) == old[2:]
