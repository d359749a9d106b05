"""The consumer's promises: takeover in stream order, one active worker, nothing stalls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence as Seq

import pytest
import redis

from dashboard.store.batch import Store
from dashboard.store.db import make_engine
from streams.consumer import Handled, Item
from streams.lease import Lease
from streams.names import lease_key
from streams.producer import new_event
from streams.sequence import Sequence
from streams.status import read_lost
from tests.test_ingest import T0, Killed, case_events, dead_letters, drain, dying, make_ingest


def test_takeover_applies_a_gone_consumers_batch_before_new_entries(
    redis_client, producer, store, settings
) -> None:
    """A newcomer under another name claims the dead one's batch first: order holds."""
    events = case_events(40)
    producer.publish_many(events[::3] + events[1::3])  # every report, every filing
    first = make_ingest(redis_client, store, settings, "first", batch_size=50)
    first.consumer.handler = dying(first.handle, after_apply=False)
    with pytest.raises(Killed):
        first.consumer.step()  # 50 entries pending under "first", never applied
    producer.publish_many(events[2::3])  # the dispatches, after their filings
    drain(make_ingest(redis_client, store, settings, "second"))
    assert dead_letters(redis_client, settings.stream_key) == []
    assert all(store.case(f"C{i:05d}").state == "dispatched" for i in range(40))


def test_a_standby_takes_over_once_the_lease_expires(redis_client, settings) -> None:
    """Only one holder at a time; a dead holder's lease is free after its time."""
    key = lease_key(settings.stream_key, settings.consumer_group)
    active, standby = (Lease(redis_client, key, name, 300) for name in ("a", "b"))
    assert active.hold() and active.fresh
    assert not standby.hold()
    time.sleep(0.4)  # "a" died: it renews no more
    assert standby.hold() and standby.fresh
    assert not Lease(redis_client, key, "a", 300).hold()  # a restart of "a" waits too


def test_a_restart_under_the_same_name_is_a_new_holder(redis_client, settings) -> None:
    """Two processes under one name never both hold the lease."""
    key = lease_key(settings.stream_key, settings.consumer_group)
    assert Lease(redis_client, key, "same", 5000).hold()
    assert not Lease(redis_client, key, "same", 5000).hold()


def test_only_the_lease_holder_consumes(redis_client, producer, store, settings) -> None:
    """Of two running workers one applies everything, the other stands by."""
    producer.publish_many(case_events(30))
    workers = [make_ingest(redis_client, store, settings, n, lease_ms=2000) for n in "ab"]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while store.case("C00029") is None or store.case("C00029").state != "dispatched":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(10)
    handled = sorted(w.consumer.status.handled for w in workers)
    assert handled == [0, 90]


def test_a_handler_error_sets_aside_only_the_entry_causing_it(
    redis_client, producer, store, settings
) -> None:
    """The batch is narrowed down to the bad entry; everything else applies."""
    events = case_events(10)
    bad = events[8]["event_id"]  # the dispatch of C00002
    producer.publish_many(events)
    ingest = make_ingest(redis_client, store, settings, "a")

    def handle(items: Seq[Item]) -> Handled:
        if any(item.event.event_id == bad for item in items):
            raise RuntimeError("a bug for this one event")
        return ingest.handle(items)

    ingest.consumer.handler = handle
    drain(ingest)
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert letter["event_id"] == bad and "RuntimeError: a bug" in letter["reason"]
    assert store.case("C00002").state == "filed" and store.case("C00009").state == "dispatched"


def test_an_entry_delivered_too_often_is_set_aside_as_poison(
    redis_client, producer, store, settings
) -> None:
    """Deliveries beyond max_deliveries make poison; the entries after it go on."""
    producer.publish_many([*case_events(2), new_event("case.urged", "C00001", T0, by="duty")])
    ingest = make_ingest(redis_client, store, settings, "a", max_deliveries=3)
    stream, group = settings.stream_key, settings.consumer_group
    *_, (entry_id, _) = redis_client.xreadgroup(group, "crashy", {stream: ">"}, count=7)[0][1]
    for _ in range(3):  # as three workers that died while applying it would leave it
        redis_client.xclaim(stream, group, "crashy", 0, [entry_id])
    drain(ingest)
    (letter,) = dead_letters(redis_client, stream)
    assert letter["stream_id"] == entry_id.decode()
    assert "poison: delivered 5 times" in letter["reason"] and "none recorded" in letter["reason"]
    assert store.case("C00001").state == "dispatched" and store.case("C00001").urges == 0


def test_an_outage_is_no_delivery(redis_client, producer, store, settings, rules) -> None:
    """Retries through a database outage never make an entry poison."""
    producer.publish_many(case_events(3))
    down = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), rules)
    ingest = make_ingest(redis_client, down, settings, "a", max_deliveries=1)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    while ingest.consumer.backoff.failures < 4:
        time.sleep(0.05)
    ingest.store = store
    deadline = time.monotonic() + 20
    while store.case("C00002") is None or store.case("C00002").state != "dispatched":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stop.set()
    thread.join(10)
    assert dead_letters(redis_client, settings.stream_key) == []


def test_a_lost_group_is_created_again_and_said_so(
    redis_client, producer, store, settings, caplog
) -> None:
    """After Redis forgot the stream, ingest resumes from what exists and notes it."""
    producer.publish_many(case_events(2))
    ingest = make_ingest(redis_client, store, settings, "a")
    drain(ingest)
    redis_client.delete(settings.stream_key)  # Redis restarted without persistence
    producer.publish(new_event("case.filed", "LATE", T0))
    producer.publish_many(case_events(1, prefix="N"))
    drain(ingest)
    assert store.case("N00000").state == "dispatched"
    note = read_lost(redis_client, settings.stream_key, settings.consumer_group)
    assert note is not None and note["entries"] == 4 and note["resumed_from"] != "0-0"
    assert "was LOST" in caplog.text


def test_pushes_are_numbered_in_publish_order(redis_client) -> None:
    """Every push takes the next number; a forgotten count starts a new epoch."""
    sequence = Sequence(redis_client, key="test:seq:" + str(time.time_ns()))
    listener = redis_client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe("test:seq:channel")
    for i in range(3):
        sequence.publish("test:seq:channel", {"method": "emit"}, {"i": i})
    got = []
    while len(got) < 3:
        message = listener.get_message(timeout=5)
        if message is not None:
            got.append(json.loads(message["data"])["data"][0])
    assert [m["seq"] for m in got] == [1, 2, 3] and len({m["epoch"] for m in got}) == 1
    assert sequence.current() == (got[0]["epoch"], 3)
    redis_client.delete(sequence.key)
    assert sequence.current()[0] != got[0]["epoch"]
    listener.close()


def test_dead_letter_of_any_payload_is_written(redis_client, store, settings) -> None:
    """Odd bytes, keys and values never make the dead-letter write fail."""
    odd = [b"\xff\xfe\x00", b'{"event_id": "\\udfff"}', "\udfff".encode("utf-8", "surrogatepass")]
    for raw in odd:
        redis_client.xadd(settings.stream_key, {"event": raw})
    redis_client.xadd(settings.stream_key, {b"\xff": b"no event field"})
    drain(make_ingest(redis_client, store, settings, "a"))
    assert len(dead_letters(redis_client, settings.stream_key)) == 4
    assert redis_client.xpending(settings.stream_key, settings.consumer_group)["pending"] == 0


def test_client_without_redis_fails_fast() -> None:
    """A sanity check of the helpers: an unreachable Redis raises ConnectionError."""
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=1, socket_connect_timeout=0.2).ping()
