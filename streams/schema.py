"""Stream contract v1: parse and validate one stream entry into an `Event`.

An entry that breaks the contract raises `ContractError` with a reason a person can
act on; the consumer sets such entries aside in the dead-letter stream.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from streams.names import EVENT_FIELD, EventType, Kind, SignalLevel, Source, Urgency

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 2000


class ContractError(ValueError):
    """An entry does not meet the stream contract; the message says why."""


@dataclass(frozen=True)
class Event:
    """One validated event of the case stream."""

    event_id: str
    type: EventType
    at: datetime
    case_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The contract's JSON form, as a producer would publish it."""
        body = {"event_id": self.event_id, "type": self.type.value, "at": self.at.isoformat()}
        if self.case_id is not None:
            body["case_id"] = self.case_id
        body.update({k: _jsonable(v) for k, v in self.data.items()})
        return json.dumps(body, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


Check = Callable[[str, Any], Any]


def _text(limit: int = MAX_TEXT_LENGTH) -> Check:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ContractError(f"{name} must be a non-empty string")
        if len(value) > limit:
            raise ContractError(f"{name} is longer than {limit} characters")
        return value

    return check


def _choice(enum: type[StrEnum]) -> Check:
    def check(name: str, value: Any) -> Any:
        try:
            return enum(value)
        except ValueError:
            allowed = "|".join(member.value for member in enum)
            raise ContractError(f"{name} must be one of {allowed}, got {value!r}") from None

    return check


def _number(low: float, high: float) -> Check:
    def check(name: str, value: Any) -> float:
        # bool is an int in Python; a JSON true is never a coordinate
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContractError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value) or not low <= value <= high:
            raise ContractError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
        return float(value)

    return check


def _category(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise ContractError(f"{name} must be a 4-digit code, got {value!r}")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ContractError(f"{name} must be true or false, got {value!r}")
    return value


def parse_time(name: str, value: Any) -> datetime:
    """An RFC 3339 time with an offset; naive times are refused, not guessed."""
    if not isinstance(value, str):
        raise ContractError(f"{name} must be an RFC 3339 time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContractError(f"{name} is not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ContractError(f"{name} must carry a UTC offset, got {value!r}")
    return parsed


_NOTE = {"note": _text(), "by": _text(128)}
_REPORT_REQUIRED = {
    "source": _choice(Source),
    "kind": _choice(Kind),
    "category": _category,
    "lon": _number(-180, 180),
    "lat": _number(-90, 90),
}
_REPORT_OPTIONAL = {
    "urgency": _choice(Urgency),
    "grid": _text(32),
    "district": _text(64),
    "street": _text(64),
    "address": _text(),
    "description": _text(),
    # A commander or producer may flag any case as an emergency case.
    "emergency": _boolean,
}

# Per type: (required fields, optional fields). Fields outside both are ignored so
# that producers may add their own without breaking us (contract v1 is open).
FIELDS: dict[EventType, tuple[dict[str, Check], dict[str, Check]]] = {
    EventType.REPORTED: (_REPORT_REQUIRED, {**_REPORT_OPTIONAL, **_NOTE}),
    EventType.DISPATCHED: (
        {"department": _text(64)},
        {"deadline": parse_time, "emergency": _boolean, **_NOTE},
    ),
    EventType.EXTENDED: ({"hours": _number(0.01, 24 * 365)}, _NOTE),
    EventType.VERIFIED: ({"passed": _boolean}, _NOTE),
    EventType.URGED: ({"by": _text(128)}, {"note": _text()}),
    EventType.SUPERVISED: ({"by": _text(128)}, {"note": _text()}),
    EventType.EMERGENCY_RAISED: (
        {"hazard": _text(32), "level": _choice(SignalLevel)},
        # force: a commander's decision, whatever the policy's threshold says.
        {"force": _boolean, **_NOTE},
    ),
}
for _plain in (
    EventType.FILED,
    EventType.REJECTED,
    EventType.VOIDED,
    EventType.RETURNED,
    EventType.SUSPENDED,
    EventType.RESUMED,
    EventType.HANDLED,
    EventType.CLOSED,
    EventType.EMERGENCY_CLEARED,
):
    FIELDS[_plain] = ({}, _NOTE)


def decode(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """The JSON object held in an entry's `event` field."""
    raw = fields.get(EVENT_FIELD, fields.get(EVENT_FIELD.encode()))
    if raw is None:
        raise ContractError(f"entry has no {EVENT_FIELD!r} field")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ContractError("event field is not UTF-8") from None
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ContractError(f"event field is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ContractError("event field must hold a JSON object")
    return body


def validate(body: Mapping[str, Any]) -> Event:
    """Check a decoded event against the contract and return it typed."""
    event_type = _choice(EventType)("type", body.get("type"))
    event_id = _text(MAX_ID_LENGTH)("event_id", body.get("event_id"))
    at = parse_time("at", body.get("at"))
    case_id = None
    if event_type.is_case_event:
        case_id = _text(MAX_ID_LENGTH)("case_id", body.get("case_id"))
    required, optional = FIELDS[event_type]
    data = {name: check(name, body.get(name)) for name, check in required.items()}
    for name, check in optional.items():
        if body.get(name) is not None:
            data[name] = check(name, body[name])
    return Event(event_id=event_id, type=event_type, at=at, case_id=case_id, data=data)


def parse_entry(fields: Mapping[Any, Any]) -> Event:
    """Decode and validate one stream entry's fields."""
    return validate(decode(fields))
