"""Stream contract v1: parse and validate one stream entry into an `Event`.

An entry that breaks the contract raises `ContractError` with a reason a person can
act on; the consumer sets such entries aside in the dead-letter stream. Whatever the
bytes, parsing raises nothing else: size and nesting depth are checked before the
JSON parser runs, integers and floats are bounded, NaN and Infinity are refused, and
no string may hold a NUL or a lone surrogate (text columns and Redis cannot store
them), so everything accepted can be stored, served as JSON and written back.

The contract's text fields (ids, notes, names, codes, addresses, descriptions) also
refuse the other C0 control characters, U+0001–U+001F, except tab, line feed and
carriage return (issue 20: a U+0001 or U+000B in a description made the Open311 XML
unreadable: XML 1.0 cannot carry them at all, not even escaped). DEL (U+007F) and
the C1 controls (U+0080–U+009F) are accepted: XML 1.0 allows them, and a screen shows
them as nothing. Producers clean outside text with `without_controls` first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from streams.names import EVENT_FIELD, EventType, Kind, SignalLevel, Source, Urgency

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 2000
MAX_ENTRY_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_INT_DIGITS = 18  # a 64-bit integer; Python's int would take any length
# Case ids end up in URLs (/api/cases/<id>) and file names of reports: keep them plain.
CASE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
CASE_ID_RULE = "1-64 characters of A-Z a-z 0-9 . _ : -"
# RFC 3339 section 5.6; T and Z may be lower case (section 5.6, NOTE).
# C0 controls but tab, LF and CR (NUL included: it has its own message elsewhere).
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


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
        found = CONTROLS.search(value)
        if found is not None:
            raise ContractError(
                f"{name} contains the control character U+{ord(found.group()):04X}; "
                "text may hold tab, line feed and carriage return, no other below U+0020"
            )
        return value

    return check


def without_controls(text: str) -> str:
    """The text without the control characters the contract refuses (for producers)."""
    return CONTROLS.sub("", text)


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


@dataclass(frozen=True)
class Window:
    """The times an event may carry: not before `earliest`, not `ahead` of the clock."""

    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    ahead: timedelta = timedelta(hours=24)
    # A deadline lies ahead of its event: a 15-working-day limit, extended, is weeks.
    deadline_ahead: timedelta = timedelta(days=731)

    def check(self, name: str, moment: datetime, ahead: timedelta) -> None:
        """Refuse a time outside the window, saying which bound it crosses."""
        if moment < self.earliest:
            raise ContractError(f"{name} {moment.isoformat()} is before {self.earliest:%Y-%m-%d}")
        latest = datetime.now(UTC) + ahead
        if moment > latest:
            raise ContractError(
                f"{name} {moment.isoformat()} is more than {_span(ahead)} ahead of the "
                "server's clock (is the producer's clock right?)"
            )


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"


def parse_time(name: str, value: Any) -> datetime:
    """An RFC 3339 time with an offset; naive times are refused, not guessed."""
    if not isinstance(value, str):
        raise ContractError(f"{name} must be an RFC 3339 time string, got {value!r}")
    match = RFC3339.fullmatch(value)
    if match is None:
        if RFC3339.fullmatch(value + "Z"):
            raise ContractError(f"{name} must carry a UTC offset, got {value!r}")
        raise ContractError(
            f"{name} is not an RFC 3339 time (like 2026-11-22T09:30:00+08:00): {value!r}"
        )
    day, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    micro = f".{(fraction or '')[:6]:0<6}" if fraction else ""
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}{micro}{offset}")
        parsed.astimezone(UTC)  # 9999-12-31T23:59:59-10:00 has no UTC form
    except (ValueError, OverflowError):
        raise ContractError(f"{name} is not a valid time: {value!r}") from None
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
    EventType.FLAGGED: ({"by": _text(128)}, {"note": _text()}),
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
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_ENTRY_BYTES:
        raise ContractError(f"event field is {len(raw)} bytes, more than {MAX_ENTRY_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError("event field is not UTF-8") from None
    if nesting(text) > MAX_DEPTH:
        raise ContractError(f"event field nests arrays or objects deeper than {MAX_DEPTH}")
    body = _loads(text)
    if not isinstance(body, dict):
        raise ContractError("event field must hold a JSON object")
    # JSON text can only carry a NUL or a lone surrogate as a \u escape (raw control
    # characters fail the parser, raw surrogates the UTF-8 decode): without one there
    # is nothing to look for, and the walk over every string was a tenth of ingest.
    if "\\u" in text:
        _check_strings(body)
    return body


# Only a run of 19 digits can make an integer too long or a float overflow without
# an exponent, and only a 3-digit exponent with one: text without either is parsed
# by the C decoder alone (the number hooks were a fifth of parsing an event).
_BIG_NUMBER = re.compile(r"\d{19}|[eE][+-]?\d{3}")


def _loads(text: str) -> Any:
    decoder = _CHECKED if _BIG_NUMBER.search(text) else _PLAIN
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as error:
        raise ContractError(f"event field is not valid JSON: {error}") from None
    except ContractError:
        raise
    except (ValueError, RecursionError) as error:  # nothing the parser says may escape
        raise ContractError(f"event field is not valid JSON: {error}") from None


def nesting(text: str) -> int:
    """How deep arrays and objects nest in JSON text (brackets inside strings aside)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot nest deeper than there are brackets; the common case
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ContractError(f"a number has more than {MAX_INT_DIGITS} digits: {digits[:24]}…")
    return int(digits)


def _float(digits: str) -> float:
    value = float(digits)
    if not math.isfinite(value):
        raise ContractError(f"a number is out of range: {digits[:24]}")
    return value


def _no_constant(name: str) -> Any:
    raise ContractError(f"{name} is not a JSON number; the contract refuses NaN and Infinity")


_PLAIN = json.JSONDecoder(parse_constant=_no_constant)
_CHECKED = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_no_constant)


def _check_strings(value: Any, path: str = "event") -> None:
    # Checked everywhere, extra fields too: the payload is stored and served as is.
    if isinstance(value, dict):
        for key, item in value.items():
            _check_string(key, f"{path} key")
            _check_strings(item, f"{path}.{_printable(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        _check_string(value, path)


def _check_string(text: str, path: str) -> None:
    if "\x00" in text:
        raise ContractError(f"{path} contains a NUL character (U+0000), which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(
            f"{path} contains a lone surrogate (like \\udfff), which is not Unicode text"
        ) from None


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:64]


def _case_id(name: str, value: Any) -> str:
    value = _text(MAX_ID_LENGTH)(name, value)
    if CASE_ID.fullmatch(value) is None:
        raise ContractError(f"{name} must be {CASE_ID_RULE}, got {value!r}")
    return value


def validate(body: Mapping[str, Any], window: Window | None = None) -> Event:
    """Check a decoded event against the contract and return it typed."""
    window = window or Window()
    event_type = _choice(EventType)("type", body.get("type"))
    event_id = _text(MAX_ID_LENGTH)("event_id", body.get("event_id"))
    at = parse_time("at", body.get("at"))
    window.check("at", at, window.ahead)
    case_id = None
    if event_type.is_case_event:
        case_id = _case_id("case_id", body.get("case_id"))
    required, optional = FIELDS[event_type]
    data = {name: check(name, body.get(name)) for name, check in required.items()}
    for name, check in optional.items():
        if body.get(name) is not None:
            data[name] = check(name, body[name])
    if "deadline" in data:
        window.check("deadline", data["deadline"], window.deadline_ahead)
    return Event(event_id=event_id, type=event_type, at=at, case_id=case_id, data=data)


def parse_entry(fields: Mapping[Any, Any], window: Window | None = None) -> Event:
    """Decode and validate one stream entry's fields."""
    return validate(decode(fields), window)
