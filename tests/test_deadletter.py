"""Dead letters can be listed and, after a fix, replayed into the stream."""

from __future__ import annotations

from dashboard.store.models import Case
from streams.deadletter import dead_letters, replay
from streams.producer import new_event
from tests.test_ingest import T0, case_events, count, drain, make_ingest


def test_out_of_order_event_is_replayed_after_its_case_arrives(
    redis_client, producer, store, engine, settings
) -> None:
    """A dispatch that came before its report applies once replayed."""
    reported, filed, dispatched = case_events(1)
    producer.publish(filed)
    ingest = make_ingest(redis_client, store, settings, "a")
    drain(ingest)
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "unknown case" in letter.reason and letter.event_id == filed["event_id"]
    producer.publish_many([reported])
    drain(ingest)
    assert replay(redis_client, settings.stream_key) == 1
    producer.publish(dispatched)
    drain(ingest)
    assert dead_letters(redis_client, settings.stream_key) == []
    assert store.case("C00000").state == "dispatched" and count(engine, Case) == 1


def test_replay_of_named_letters_only(redis_client, producer, store, settings) -> None:
    """Replaying one id leaves the others set aside."""
    producer.publish_many([new_event("case.filed", "X1", T0), new_event("case.filed", "X2", T0)])
    drain(make_ingest(redis_client, store, settings, "a"))
    first, second = dead_letters(redis_client, settings.stream_key)
    assert replay(redis_client, settings.stream_key, [first.id]) == 1
    assert [d.id for d in dead_letters(redis_client, settings.stream_key)] == [second.id]


def test_dead_letter_keeps_bytes_that_are_not_utf8(redis_client, settings, store) -> None:
    """A payload of invalid UTF-8 is stored as base64 and replayed byte for byte."""
    raw = b'{"event_id": "\xff\xfe"}'
    redis_client.xadd(settings.stream_key, {"event": raw})
    drain(make_ingest(redis_client, store, settings, "a"))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert letter.encoding == "base64" and letter.payload() == raw
    assert "not UTF-8" in letter.reason
    assert replay(redis_client, settings.stream_key) == 1
    assert redis_client.xrange(settings.stream_key)[-1][1][b"event"] == raw


def test_dead_letter_of_a_lone_surrogate_is_written(redis_client, producer, store, settings):
    """A lone surrogate (JSON-escaped) in event_id is set aside, not a crash of XADD."""
    producer.publish_raw('{"event_id": "\\udfff", "type": "case.filed"}')
    drain(make_ingest(redis_client, store, settings, "a"))
    (letter,) = dead_letters(redis_client, settings.stream_key)
    assert "lone surrogate" in letter.reason and letter.event.startswith('{"event_id"')
