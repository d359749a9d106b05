"""At least fifty entries that break the contract or the workflow, each with the words
its dead letter's reason must contain."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.producer import new_event

NOW = datetime.now(UTC)


def report(**changes: Any) -> dict[str, Any]:
    """A valid report of a case of its own, with some fields changed (None drops one)."""
    case_id = f"B{uuid.uuid4().hex[:10]}"
    body = new_event("case.reported", case_id, NOW, source="inspector", kind="event",
                     category="0102", lon=113.55, lat=22.25)  # fmt: skip
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def raw(body: dict[str, Any]) -> str:
    """The JSON text of a body (ensure_ascii keeps lone surrogates as escapes)."""
    return json.dumps(body)


def dispatch(case_id: str, department: str) -> str:
    """A dispatch of a case that is only reported, to a department."""
    return raw(new_event("case.dispatched", case_id, NOW, department=department))


# (payload, words in the reason): payload is the `event` field, str or bytes; a dict
# is a whole entry without an `event` field.
INDEPENDENT: list[tuple[Any, str]] = [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2, 3]", "JSON object"),
    ('"just a string"', "JSON object"),
    ("null", "JSON object"),
    ("42", "JSON object"),
    ("{}", "type must be one of"),
    (raw(report(event_id=None)), "event_id"),
    (raw(report(type=None)), "type must be one of"),
    (raw(report(at=None)), "at must be an RFC 3339"),
    (raw(report(case_id=None)), "case_id"),
    (raw(report(case_id=12)), "case_id must be a non-empty string"),
    (raw(report(source=None)), "source"),
    (raw(report(lon=None)), "lon"),
    (raw(report(lon="east")), "lon must be a number"),
    (raw(report(lon=True)), "lon must be a number"),
    (raw(report(lat=95.0)), "between"),
    (raw(report(category="102")), "4-digit"),
    (raw(report(category="0\u200b12")), "4-digit"),
    (raw(report(kind=3)), "kind must be one of"),
    (raw(report(urgency="panic")), "urgency must be one of"),
    (raw(report(type="case.exploded")), "type must be one of"),
    (raw(report(type=17)), "type must be one of"),
    (raw(report(event_id="")), "non-empty"),
    (raw(report(event_id=123)), "event_id must be a non-empty string"),
    (raw(report(event_id="e" * 65)), "longer than 64"),
    (raw(report(description="长" * 3000)), "longer than 2000"),
    (raw(report(description="x" * 100_000)), "bytes, more than"),
    (raw(report(description="before\u0000after")), "NUL"),
    (raw(report(description="\udfff")), "lone surrogate"),
    (raw(report(event_id="\udfff")), "lone surrogate"),
    (raw({**report(), "\ud800key": 1}), "lone surrogate"),
    (b'{"event_id": "\xff\xfe", "type": "case.filed"}', "not UTF-8"),
    (raw(report()).replace('"lon": 113.55', '"lon": ' + "9" * 400), "digits"),
    (raw(report()).replace('"lat": 22.25', '"lat": ' + "1" * 5000), "digits"),
    ("[" * 100_000 + "]" * 100_000, "bytes, more than"),
    ("[" * 30_000 + "]" * 30_000, "nests"),
    (raw(report()).replace("}", ', "extra": NaN}'), "NaN"),
    (raw(report()).replace('"lon": 113.55', '"lon": Infinity'), "Infinity"),
    (raw(report()).replace('"lon": 113.55', '"lon": 1e400'), "out of range"),
    (raw(report(at="2026-W48-1T09:00:00Z")), "not an RFC 3339"),
    (raw(report(at="2026-11-22T09:30:00")), "offset"),
    (raw(report(at="0001-01-01T00:00:00Z")), "before 2000"),
    (raw(report(at="9999-12-31T23:59:59Z")), "ahead"),
    (raw(report(at="9999-12-31T23:59:59-10:00")), "not a valid time"),
    (raw(report(at=(NOW + timedelta(days=2)).isoformat())), "ahead"),
    (raw(report(at=1_700_000_000)), "RFC 3339 time string"),
    (raw(report(case_id="E01/02")), "case_id must be"),
    (raw(report(case_id="\u202eE0102")), "case_id must be"),
    (raw(report(case_id="E01\u200b02")), "case_id must be"),
    (raw(report(category="0999")), "not in the city's catalogue"),
    (raw(new_event("case.filed", "GHOST-1", NOW)), "unknown case GHOST-1"),
    (raw(new_event("case.extended", "GHOST-2", NOW, hours=0)), "hours must be between"),
    (raw(new_event("case.verified", "GHOST-3", NOW, passed="yes")), "true or false"),
    (raw(new_event("emergency.raised", None, NOW, hazard="typhoon", level="purple")), "level"),
    ({"other": "no event field"}, "no 'event' field"),
]


def dependent(case_id: str) -> list[tuple[Any, str]]:
    """Bad entries about a good case that is reported, filed and dispatched."""
    return [
        (raw(new_event("case.verified", case_id, NOW, passed=True)), "impossible for case"),
        (raw(new_event("case.filed", case_id, NOW)), "impossible for case"),
        (raw(report(case_id=case_id)), "was already reported"),
    ]


def undispatched(case_id: str) -> list[tuple[Any, str]]:
    """Bad dispatches of a good case that is only reported and filed."""
    return [
        (dispatch(case_id, "nowhere"), "not a responsible unit"),
        (dispatch(case_id, "\u202esanitation"), "not a responsible unit"),
        (dispatch(case_id, "sanitation\u200b"), "not a responsible unit"),
    ]
