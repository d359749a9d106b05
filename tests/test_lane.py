"""The emergency lane: it overtakes a backlog, never a case's own earlier events."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.ingest.pusher import Pusher
from dashboard.store import emergency
from dashboard.store.models import EventRow
from streams.consumer import lag
from streams.names import lane_key, push_channel
from streams.producer import new_event
from tests.test_ingest import T0, case_events, dead_letters, drain, make_ingest

ACTIONS = ("case.urged", "case.supervised", "case.flagged")


def history(store, case_id: str) -> list[str]:
    """The event ids of a case in the order they were applied."""
    query = select(EventRow.event_id).where(EventRow.case_id == case_id).order_by(EventRow.id)
    with store.sessions() as session:
        return list(session.scalars(query))


def action(case_id: str, kind: str = "case.urged", minutes: int = 30):
    """A commander's action on a case, as the desk publishes it."""
    return new_event(kind, case_id, T0 + timedelta(minutes=minutes), by="duty", note="now")


def test_an_emergency_behind_30000_events_is_applied_and_pushed_first(
    redis_client, redis_url, producer, store, settings
) -> None:
    """One batch after it is published, the emergency is in force and on its way to screens."""
    producer.publish_many(case_events(10_000))  # 30,000 entries queued
    producer.publish_lane(new_event("emergency.raised", hazard="typhoon", level="orange"))
    listener = redis_client.pubsub()
    listener.subscribe(push_channel(settings.stream_key))
    ingest = make_ingest(redis_client, store, settings, "a", batch_size=500)
    ingest.pusher = Pusher(redis_url, settings.stream_key)
    ingest.consumer.step()
    ingest.flush()
    with store.sessions() as session:
        assert emergency.state(session)["level"] == "orange"
    heard = [m["data"] for m in iter(lambda: listener.get_message(timeout=1), None)]
    assert any(b'"emergency"' in m and b'"orange"' in m for m in heard if isinstance(m, bytes))
    waiting = lag(redis_client, settings.stream_key, settings.consumer_group, cap=100_000)
    assert waiting["undelivered"] > 29_000


def test_an_action_on_an_applied_case_overtakes_the_backlog(
    redis_client, producer, store, settings
) -> None:
    """A case whose events are all applied is urged at once, whatever is queued."""
    producer.publish_many(case_events(1, prefix="OLD"))
    drain(make_ingest(redis_client, store, settings, "a"))
    producer.publish_many(case_events(2_000))
    producer.publish_lane(action("OLD00000"))
    ingest = make_ingest(redis_client, store, settings, "a", batch_size=100)
    ingest.consumer.step()
    assert store.case("OLD00000").urges == 1
    assert store.case("C01999") is None


def test_an_action_waits_for_its_cases_queued_events(
    redis_client, producer, store, settings
) -> None:
    """Urging a case whose report is still queued applies after the report, not before."""
    events = case_events(2_000)
    producer.publish_many(events)
    urge = action("C01500")
    producer.publish_lane(urge)
    producer.publish_many(case_events(1, prefix="AFTER"))
    ingest = make_ingest(redis_client, store, settings, "a", batch_size=100)
    ingest.consumer.step()
    assert store.case("C01500") is None  # the urge is held, not refused
    drain(ingest)
    assert dead_letters(redis_client, settings.stream_key) == []
    assert store.case("C01500").urges == 1
    assert history(store, "C01500")[-1] == urge["event_id"]


def test_a_waiting_action_goes_between_its_cases_events_in_one_batch(
    redis_client, producer, store, settings
) -> None:
    """The stream's batch is cut after the case's last earlier event; the action goes there."""
    producer.publish_many(case_events(200))
    reported, filed, dispatched = case_events(1, prefix="X")
    producer.publish(reported)
    urge = action("X00000")
    producer.publish_lane(urge)
    producer.publish_many([filed, dispatched])
    drain(make_ingest(redis_client, store, settings, "a", batch_size=1000))
    ids = [e["event_id"] for e in (reported, urge, filed, dispatched)]
    assert history(store, "X00000") == ids


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_order_per_case_holds_when_actions_and_events_interleave(
    redis_client, producer, store, settings, seed: int
) -> None:
    """Lane actions and stream events of the same cases apply in publish order per case."""
    rng = random.Random(seed)
    queue = {f"K{n:03d}-00000": case_events(1, prefix=f"K{n:03d}-") for n in range(12)}
    published: dict[str, list[str]] = {}
    while queue or rng.random() < 0.9:
        reported = [case for case in published if case not in queue or len(queue[case]) < 3]
        if reported and (rng.random() < 0.4 or not queue):
            event = action(rng.choice(sorted(reported)), rng.choice(ACTIONS))
            producer.publish_lane(event)
        else:
            case = rng.choice(sorted(queue))
            event = queue[case].pop(0)
            producer.publish(event)
            if not queue[case]:
                del queue[case]
        published.setdefault(event["case_id"], []).append(event["event_id"])
        if rng.random() < 0.2:
            make_ingest(redis_client, store, settings, "a", batch_size=5).consumer.step()
    drain(make_ingest(redis_client, store, settings, "a", batch_size=rng.choice([3, 7, 50])))
    assert dead_letters(redis_client, settings.stream_key) == []
    for case_id, ids in published.items():
        assert history(store, case_id) == ids


def test_an_emergency_on_the_lane_keeps_its_order_with_the_streams(
    redis_client, producer, store, settings
) -> None:
    """A clear on the lane does not overtake a raise still queued on the stream."""
    producer.publish_many(case_events(300))
    producer.publish(new_event("emergency.raised", hazard="typhoon", level="orange"))
    producer.publish_many(case_events(300, prefix="D"))
    producer.publish_lane(new_event("emergency.cleared", note="passed"))
    drain(make_ingest(redis_client, store, settings, "a", batch_size=100))
    with store.sessions() as session:
        assert emergency.state(session) is None
    assert dead_letters(redis_client, settings.stream_key) == []


def test_a_dead_workers_waiting_lane_entry_is_claimed_and_applied_once(
    redis_client, producer, store, settings
) -> None:
    """A lane entry read and held by a worker that died is claimed by the next, in order."""
    producer.publish_many(case_events(500))
    urge = action("C00400")
    producer.publish_lane(urge)
    first = make_ingest(redis_client, store, settings, "first", batch_size=100)
    first.consumer.step()  # holds the urge: its case is still queued; then it dies
    lane = lane_key(settings.stream_key)
    assert redis_client.xpending(lane, settings.consumer_group)["pending"] == 1
    second = make_ingest(redis_client, store, settings, "second", batch_size=100)
    drain(second)
    assert store.case("C00400").urges == 1 and history(store, "C00400")[-1] == urge["event_id"]
    assert redis_client.xpending(lane, settings.consumer_group)["pending"] == 0


def test_a_case_event_on_the_lane_is_set_aside_with_the_reason(
    redis_client, producer, store, settings
) -> None:
    """Workflow events keep to the stream; on the lane they go to the dead letters."""
    reported, filed, _ = case_events(1)
    producer.publish(reported)
    redis_client.xadd(lane_key(settings.stream_key), {"event": json.dumps(filed)})
    drain(make_ingest(redis_client, store, settings, "a"))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "does not ride the lane" in letter["reason"] and letter["event"] == json.dumps(filed)
    assert letter["stream"] == lane_key(settings.stream_key)
    assert store.case("C00000").state == "reported"
    with pytest.raises(ValueError, match="does not ride the lane"):
        producer.publish_lane(filed)


def test_a_lane_entry_without_after_is_ordered_by_its_own_id(
    redis_client, producer, store, settings
) -> None:
    """Published with a bare XADD, an action still waits for its case's earlier events."""
    producer.publish_many(case_events(300))
    urge = action("C00250")
    redis_client.xadd(lane_key(settings.stream_key), {"event": json.dumps(urge)})
    drain(make_ingest(redis_client, store, settings, "a", batch_size=50))
    assert dead_letters(redis_client, settings.stream_key) == []
    assert history(store, "C00250")[-1] == urge["event_id"]


def test_a_lost_lane_group_is_created_again(redis_client, producer, store, settings) -> None:
    """NOGROUP on the lane: the group comes back and the lane's entries still apply."""
    producer.publish_many(case_events(3))
    ingest = make_ingest(redis_client, store, settings, "a")
    drain(ingest)
    lane = lane_key(settings.stream_key)
    redis_client.xgroup_destroy(lane, settings.consumer_group)
    producer.publish_lane(action("C00001"))
    drain(ingest)
    assert store.case("C00001").urges == 1


def test_a_lane_entry_delivered_too_often_is_set_aside_as_poison(
    redis_client, producer, store, settings
) -> None:
    """Poison on the lane is found at takeover, as on the stream."""
    producer.publish_many(case_events(2))
    lane = lane_key(settings.stream_key)
    producer.publish_lane(action("C00001"))
    group = settings.consumer_group
    make_ingest(redis_client, store, settings, "setup")  # creates the groups
    (entry_id, _), *_ = redis_client.xreadgroup(group, "crashy", {lane: ">"}, count=1)[0][1]
    for _ in range(3):
        redis_client.xclaim(lane, group, "crashy", 0, [entry_id])
    drain(make_ingest(redis_client, store, settings, "a", max_deliveries=3))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "poison" in letter["reason"] and letter["stream"] == lane
    assert store.case("C00001").urges == 0 and store.case("C00001").state == "dispatched"
