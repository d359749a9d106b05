"""Stream contract v1: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.names import EventType, Kind, SignalLevel, Source, Urgency
from streams.schema import ContractError, decode, parse_entry, validate, without_controls


def reported(**changes: Any) -> dict[str, Any]:
    """A valid case.reported event, with some fields changed."""
    body = {
        "event_id": "e-1",
        "type": "case.reported",
        "at": "2026-11-22T09:30:00+08:00",
        "case_id": "E0102-1",
        "source": "inspector",
        "kind": "event",
        "category": "0102",
        "lon": 113.55,
        "lat": 22.25,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def reason(body: Any) -> str:
    """The contract error message for a body."""
    with pytest.raises(ContractError) as caught:
        validate(body)
    return str(caught.value)


def test_valid_report_is_typed() -> None:
    """A valid report comes back with enums, floats and an aware time."""
    event = validate(reported(urgency="urgent", grid="440402001001001"))
    assert event.type is EventType.REPORTED
    assert event.data["source"] is Source.INSPECTOR and event.data["kind"] is Kind.EVENT
    assert event.data["urgency"] is Urgency.URGENT
    assert event.at.utcoffset() is not None and event.data["lon"] == 113.55


def test_urgency_is_optional() -> None:
    """Urgency may be left out (the default, normal, applies later)."""
    assert "urgency" not in validate(reported()).data


def test_zulu_time_is_accepted() -> None:
    """RFC 3339's Z suffix means UTC."""
    assert validate(reported(at="2026-11-22T01:30:00Z")).at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("missing", ["event_id", "type", "at", "case_id", "source", "lon"])
def test_missing_field_is_named(missing: str) -> None:
    """A missing required field is named in the reason."""
    body = reported()
    del body[missing]
    assert missing in reason(body)


def test_unknown_type_lists_the_known_ones() -> None:
    """An unknown event type is refused with the allowed types."""
    message = reason(reported(type="case.teleported"))
    assert "case.teleported" in message and "case.closed" in message


def test_time_without_offset_is_refused() -> None:
    """A time with no offset is ambiguous and refused, not guessed."""
    assert "offset" in reason(reported(at="2026-11-22T09:30:00"))


def test_garbage_time_is_refused() -> None:
    """A time that is not RFC 3339 is refused."""
    assert "not an RFC 3339" in reason(reported(at="yesterday"))


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("lon", "113.5", "must be a number"),
        ("lon", True, "must be a number"),
        ("lat", 95.0, "between"),
        ("category", "102", "4-digit"),
        ("source", "pigeon", "must be one of"),
        ("kind", 3, "must be one of"),
        ("event_id", "", "non-empty"),
        ("case_id", "x" * 65, "longer than"),
    ],
)
def test_wrong_types_are_refused(field: str, value: Any, words: str) -> None:
    """A field of the wrong type or out of range is refused with its name."""
    message = reason(reported(**{field: value}))
    assert field in message and words in message


def test_dispatch_needs_a_department() -> None:
    """case.dispatched without a department is refused."""
    body = {
        "event_id": "e",
        "type": "case.dispatched",
        "at": "2026-11-22T09:30:00Z",
        "case_id": "c",
    }
    assert "department" in reason(body)


def test_dispatch_deadline_is_parsed() -> None:
    """A stated deadline becomes an aware datetime."""
    body = {
        "event_id": "e",
        "type": "case.dispatched",
        "at": "2026-11-22T09:30:00Z",
        "case_id": "c",
        "department": "gardens",
        "deadline": "2026-11-22T13:30:00Z",
    }
    assert validate(body).data["deadline"].hour == 13


def test_verified_needs_a_boolean() -> None:
    """passed must be a real boolean, not a string."""
    body = {"event_id": "e", "type": "case.verified", "at": "2026-11-22T09:30:00Z", "case_id": "c"}
    assert "passed" in reason({**body, "passed": "yes"})
    assert validate({**body, "passed": False}).data["passed"] is False


def test_emergency_needs_no_case() -> None:
    """emergency.raised concerns the city, not a case."""
    body = {
        "event_id": "e",
        "type": "emergency.raised",
        "at": "2026-11-22T09:30:00Z",
        "hazard": "typhoon",
        "level": "orange",
    }
    event = validate(body)
    assert event.case_id is None and event.data["level"] is SignalLevel.ORANGE


def test_extension_hours_must_be_positive() -> None:
    """An extension of zero or negative hours is refused."""
    body = {"event_id": "e", "type": "case.extended", "at": "2026-11-22T09:30:00Z", "case_id": "c"}
    assert "hours" in reason({**body, "hours": -2})


def test_unknown_extra_fields_are_ignored() -> None:
    """Producers may add fields of their own; v1 is open."""
    assert "colour" not in validate(reported(colour="blue")).data


def test_malformed_json_is_refused() -> None:
    """An event field that is not JSON is refused with the parser's words."""
    with pytest.raises(ContractError, match="not valid JSON"):
        decode({b"event": b"{not json"})


def test_json_that_is_not_an_object_is_refused() -> None:
    """A JSON list is not an event."""
    with pytest.raises(ContractError, match="JSON object"):
        decode({"event": "[1, 2]"})


def test_entry_without_event_field_is_refused() -> None:
    """An entry must carry its payload in the `event` field."""
    with pytest.raises(ContractError, match="no 'event' field"):
        decode({b"payload": b"{}"})


def test_round_trip_through_json() -> None:
    """An event's JSON form parses back to the same event."""
    event = validate(reported(description="井盖缺失", urgency="very_urgent"))
    again = parse_entry({"event": event.to_json()})
    assert again == event
    assert json.loads(event.to_json())["description"] == "井盖缺失"


@pytest.mark.parametrize(
    "at", ["2026-12-01t18:03:21z", "2026-11-22T09:30:00.5+08:00", "2026-11-22T01:30:00.123456789Z"]
)
def test_rfc3339_forms_are_accepted(at: str) -> None:
    """RFC 3339 allows lower-case t and z, and any number of fraction digits."""
    assert validate(reported(at=at)).at.utcoffset() is not None


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2026-W48-1T09:00:00Z", "not an RFC 3339"),
        ("2026-11-22 09:30:00+08:00", "not an RFC 3339"),
        ("20261122T093000Z", "not an RFC 3339"),
        ("2026-11-22T09:30+08:00", "not an RFC 3339"),
        ("0001-01-01T00:00:00Z", "before 2000"),
        ("9999-12-31T23:59:59Z", "ahead of the server's clock"),
        ("9999-12-31T23:59:59-10:00", "not a valid time"),
        ("2026-13-01T00:00:00Z", "not a valid time"),
    ],
)
def test_times_outside_rfc3339_or_the_window_are_refused(at: str, words: str) -> None:
    """ISO week dates, spaces, basic format, year 1 and 9999 are refused with a reason."""
    assert words in reason(reported(at=at))


def test_time_a_day_ahead_is_refused_with_a_configurable_window() -> None:
    """The window is configurable: an hour ahead passes by default, not with 30 minutes."""
    from datetime import UTC, datetime, timedelta

    from streams.schema import Window

    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert validate(reported(at=soon)).at
    with pytest.raises(ContractError, match="ahead"):
        validate(reported(at=soon), Window(ahead=timedelta(minutes=30)))


@pytest.mark.parametrize("case_id", ["a/b", "E 1", "案件1", "x\u200by", "\u202eabc", "a?b", ""])
def test_case_ids_outside_the_character_set_are_refused(case_id: str) -> None:
    """Case ids are 1-64 of A-Z a-z 0-9 . _ : - (they end up in URLs)."""
    assert "case_id" in reason(reported(case_id=case_id))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"lon": ' + "1" * 400 + "}", "more than 18 digits"),
        ('{"lon": ' + "1" * 5000 + "}", "more than 18 digits"),
        ("[" * 100_000, "bytes"),
        ("[" * 20 + "]" * 20, "nests"),
        ('{"x": NaN}', "NaN"),
        ('{"x": -Infinity}', "Infinity"),
        ('{"x": 1e999}', "out of range"),
        ('{"x": "\\udfff"}', "lone surrogate"),
        ('{"\\ud800": 1}', "lone surrogate"),
        ('{"x": ["a\\u0000"]}', "NUL"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_killer_payloads_are_refused_before_or_while_parsing(raw: str, words: str) -> None:
    """Nothing a payload holds makes decode raise anything but a ContractError."""
    with pytest.raises(ContractError, match=words):
        decode({"event": raw})


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    """A description full of brackets is text, not depth."""
    body = reported(description="[{" * 50 + '\\"')
    assert decode({"event": json.dumps(body)})["description"].startswith("[{")


def test_lone_surrogate_in_event_id_is_refused() -> None:
    """A lone surrogate anywhere is refused at the contract, never at storage."""
    raw = json.dumps(reported(event_id="\udfff"))
    with pytest.raises(ContractError, match="event.event_id contains a lone surrogate"):
        parse_entry({"event": raw})


@pytest.mark.parametrize("field", ["description", "address", "district", "street", "note"])
@pytest.mark.parametrize("control", ["\x01", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_a_c0_control_character_in_text_is_refused(field: str, control: str) -> None:
    """U+0001–U+001F other than tab, LF and CR cannot reach the store (XML cannot hold them)."""
    assert f"U+{ord(control):04X}" in reason(reported(**{field: f"井盖{control}缺失"}))


def test_a_c0_control_character_sent_as_json_is_refused() -> None:
    """The same holds for an entry whose JSON escapes it (\\u0001)."""
    with pytest.raises(ContractError, match="U\\+0001"):
        parse_entry({"event": json.dumps(reported(description="a\x01b"))})


def test_tab_line_feed_carriage_return_and_del_stay_text() -> None:
    """Multi-line notes and tabs are text; DEL and C1 controls are allowed in XML 1.0."""
    event = validate(reported(description="一\t二\r\n三\x7f\x85"))
    assert event.data["description"] == "一\t二\r\n三\x7f\x85"


def test_without_controls_strips_what_the_contract_refuses_and_keeps_the_rest() -> None:
    """A producer's cleaning leaves tab, LF and CR and removes every other C0 character."""
    assert without_controls("a\x00b\x01c\td\x0be\nf\x1fg\r") == "abc\tde\nfg\r"
