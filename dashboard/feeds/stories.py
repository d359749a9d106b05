"""A service request told as a contract-v1 case story, through a city's mapping.

reported (and filed) at its created time; dispatched to its agency's unit at once,
with the export's due date as the deadline where it has one; returned and sent
again at each transfer to another agency; handled and closed at its closed time
(a cancelled request is rejected instead). Event ids come from the request's own
id, so a second replay of the same file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.domain.configfile import ConfigError, read_yaml
from dashboard.feeds.records import Record, Refused
from streams.names import EventType, Source
from streams.producer import new_event

STEP = timedelta(seconds=1)  # between the steps an export records as one instant
SAFE_ID = re.compile(r"[^A-Za-z0-9._:-]")
MAPPING_FILE = "replay.yaml"
# How exports name the channel a request came in by, as contract sources.
SOURCES = {
    "phone": Source.HOTLINE, "call": Source.HOTLINE, "voice in": Source.HOTLINE,
    "online": Source.CITIZEN, "mobile": Source.CITIZEN, "mobile app": Source.CITIZEN,
    "self service": Source.CITIZEN, "web": Source.CITIZEN, "email": Source.CITIZEN,
    "internal": Source.INSPECTOR, "driver self report": Source.INSPECTOR,
}  # fmt: skip


@dataclass(frozen=True)
class CityMapping:
    """How an export's words become the city's: types, agencies, areas, id prefix."""

    categories: Mapping[str, tuple[str, str]]  # export type -> (kind, code)
    units: Mapping[str, str]  # export agency -> unit code
    districts: Mapping[str, str] = field(default_factory=dict)  # export area -> code
    default_category: tuple[str, str] | None = None
    default_unit: str | None = None
    prefix: str = ""

    def category(self, name: str) -> tuple[str, str] | None:
        """The (kind, code) an export's type is filed under."""
        return self.categories.get(name.strip().lower(), self.default_category)

    def case_id(self, request_id: str) -> str:
        """The case id of a request: the prefix and the id, in the contract's characters."""
        return self.prefix + SAFE_ID.sub("_", request_id)

    def unit(self, agency: str) -> str | None:
        """The responsible unit of an export's agency."""
        return self.units.get(agency.strip().lower(), self.default_unit)


def load_mapping(path: Path) -> CityMapping:
    """A mapping file: `categories`, `units`, optional `districts`, defaults, `prefix`."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path.name, 1, "expected a mapping with categories and units")
    try:
        return CityMapping(
            categories={k.lower(): _category(v) for k, v in data["categories"].items()},
            units={k.lower(): str(v) for k, v in data["units"].items()},
            districts={str(k).lower(): str(v) for k, v in (data.get("districts") or {}).items()},
            default_category=_category(data["default_category"])
            if data.get("default_category")
            else None,
            default_unit=data.get("default_unit"),
            prefix=str(data.get("prefix") or ""),
        )
    except (KeyError, AttributeError, ValueError) as error:
        raise ConfigError(path.name, 1, f"replay mapping: {error}") from None


def _category(text: Any) -> tuple[str, str]:
    kind, _, code = str(text).partition(" ")
    if kind not in ("event", "component") or not re.fullmatch(r"\d{4}", code):
        raise ValueError(f"category {text!r} must read like 'event 0102'")
    return kind, code


def story(record: Record, mapping: CityMapping, family: str) -> list[dict[str, Any]] | Refused:
    """The contract events of one request, or why it is set aside."""
    refused = _refusal(record, mapping)
    if refused is not None:
        return Refused(record.line, refused)
    step = Steps(f"{family}:{record.request_id}", mapping.case_id(record.request_id))
    step.add(EventType.REPORTED, record.created, **_report(record, mapping))
    if "cancel" in record.status.lower():
        step.add(EventType.REJECTED, record.created + STEP, note=record.status)
        return step.events
    step.add(EventType.FILED, record.created + STEP)
    last = _dispatches(step, record, mapping)
    if record.closed is not None:
        handled = max(record.closed - STEP, last + STEP)
        step.add(EventType.HANDLED, handled, by=record.agency or None)
        step.add(EventType.CLOSED, max(record.closed, handled + STEP))
    return step.events


def _refusal(record: Record, mapping: CityMapping) -> str | None:
    if record.lat is None or record.lon is None:
        return "no coordinates"
    if record.closed is not None and record.closed < record.created:
        return "closed before created"
    if "duplicate" in record.status.lower():
        return "duplicate request"
    if mapping.category(record.type) is None:
        return f"unknown type {record.type!r}"
    if mapping.unit(record.agency) is None:
        return f"unknown agency {record.agency!r}"
    return None


def _report(record: Record, mapping: CityMapping) -> dict[str, Any]:
    kind, code = mapping.category(record.type)  # type: ignore[misc]
    fields: dict[str, Any] = {
        "source": SOURCES.get(record.source.strip().lower(), Source.CITIZEN).value,
        "kind": kind,
        "category": code,
        "lon": round(float(record.lon or 0), 6),
        "lat": round(float(record.lat or 0), 6),
    }
    if record.type:  # the contract refuses an empty text: no type, no description
        fields["description"] = record.type[:200]
    if record.address:
        fields["address"] = record.address[:200]
    district = mapping.districts.get(record.area.strip().lower())
    if district:
        fields["district"] = district
    return fields


def _dispatches(step: Steps, record: Record, mapping: CityMapping) -> datetime:
    """The first dispatch and one return and re-dispatch per transfer; the last time."""
    at, unit = record.created + 2 * STEP, str(mapping.unit(record.agency))
    due = {"deadline": record.due} if record.due is not None and record.due > at else {}
    step.add(EventType.DISPATCHED, at, department=unit, **due)
    for transfer in record.transfers:
        target = mapping.unit(transfer.agency)
        if target is None or target == unit or transfer.at <= at:
            continue
        step.add(EventType.RETURNED, transfer.at, note=f"transferred to {transfer.agency}")
        at, unit = transfer.at + STEP, target
        step.add(EventType.DISPATCHED, at, department=unit)
    return at


class Steps:
    """The events of one story, numbered for ids that a replay reproduces."""

    def __init__(self, origin: str, case_id: str) -> None:
        self.origin, self.case_id = origin, case_id
        self.events: list[dict[str, Any]] = []

    def add(self, type: EventType, at: datetime, **fields: Any) -> None:
        event = new_event(type, self.case_id, at, **fields)
        event["event_id"] = f"{self.origin}:{len(self.events)}"[-64:]
        self.events.append(event)
