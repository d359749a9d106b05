"""311 exports read as service requests, whatever the family of the file.

Four families are known, each detected from its header (or, for JSON, its keys):
NYC Open Data 311 (several column sets across years), Los Angeles MyLA311 (mixed
case columns in older years, lower case later), Baltimore 311, and Open311
GeoReport v2 JSON with Chicago's `notes` lifecycle. Files are streamed row by row;
a row that cannot be read becomes a `Refused` with its line and the reason, and
reading goes on. Every text read is cleaned of the control characters the stream
contract refuses (streams.schema `without_controls`): one vertical tab in an export's
address must not cost its whole case story.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from streams.schema import without_controls

MISSING = {"", "NA", "N/A", "NULL", "null", "None"}


class Family(StrEnum):
    """The kinds of export the replay reads."""

    NYC = "nyc"
    LA = "la"
    BALTIMORE = "baltimore"
    OPEN311 = "open311"


@dataclass(frozen=True)
class Transfer:
    """A request handed from one agency to another (Open311 follow-ons)."""

    at: datetime
    agency: str


@dataclass(frozen=True)
class Record:
    """One service request as the export tells it, times aware."""

    line: int
    request_id: str
    type: str
    agency: str
    created: datetime
    closed: datetime | None
    due: datetime | None
    lat: float | None
    lon: float | None
    status: str
    address: str = ""
    area: str = ""  # borough, council district...: what the export calls a district
    source: str = ""
    transfers: tuple[Transfer, ...] = field(default=())


@dataclass(frozen=True)
class Refused:
    """A row set aside, with where it was and why."""

    line: int
    reason: str


Row = Record | Refused

# Column names by family, lower-cased: (id, type, agency, created, closed, due, lat,
# lon, status, address, area, source).
COLUMNS: dict[Family, tuple[str, ...]] = {
    Family.NYC: ("unique key", "complaint type", "agency", "created date", "closed date",
                 "due date", "latitude", "longitude", "status", "incident address",
                 "borough", "open data channel type"),
    Family.LA: ("srnumber", "requesttype", "owner", "createddate", "closeddate",
                "servicedate", "latitude", "longitude", "status", "address", "cd",
                "requestsource"),
    Family.BALTIMORE: ("servicerequestnum", "srtype", "agency", "createddate", "closedate",
                       "duedate", "latitude", "longitude", "srstatus", "address",
                       "councildistrict", "methodreceived"),
}  # fmt: skip
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def detect(header: list[str]) -> Family | None:
    """The family whose columns a CSV header has, or None."""
    names = {name.strip().lower() for name in header}
    for family, columns in COLUMNS.items():
        if {columns[0], columns[1], columns[3]} <= names:
            return family
    return None


def detect_file(path: Path) -> Family:
    """The family of an export file, from its header (JSON is Open311)."""
    if path.suffix.lower() == ".json":
        return Family.OPEN311
    with path.open(newline="", encoding="utf-8-sig") as handle:
        family = detect(next(csv.reader(handle), []))
    if family is None:
        raise ValueError(f"{path.name}: header matches no known 311 export")
    return family


def read(path: Path, timezone: str) -> tuple[Family, Iterator[Row]]:
    """The family of an export and its rows, streamed (JSON is Open311 GeoReport v2)."""
    zone = ZoneInfo(timezone)
    if path.suffix.lower() == ".json":
        return Family.OPEN311, _open311_rows(path, zone)
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(handle)
    header = next(reader, [])
    family = detect(header)
    if family is None:
        handle.close()
        raise ValueError(f"{path.name}: header matches no known 311 export: {header[:6]}")
    return family, _csv_rows(handle, reader, header, family, zone)


def _csv_rows(
    handle: IO[str], reader: Any, header: list[str], family: Family, zone: ZoneInfo
) -> Iterator[Row]:
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    positions = [index.get(name) for name in COLUMNS[family]]
    with handle:
        for cells in reader:
            line = reader.line_num
            values = [_plain(cells[p]) if p is not None and p < len(cells) else ""
                      for p in positions]  # fmt: skip
            yield _record(line, values, zone)


def _plain(text: Any) -> str:
    """Outside text as the contract takes it: no control characters, no outer spaces."""
    return without_controls(str(text)).strip()


def _record(line: int, values: list[str], zone: ZoneInfo) -> Row:
    rid, kind, agency, created, closed, due, lat, lon, status, address, area, source = values
    try:
        made = _time(created, zone)
        if made is None or not rid or not kind:
            return Refused(line, "no id, type or created time")
        return Record(
            line, rid, kind, agency, made, _time(closed, zone), _time(due, zone),
            _number(lat), _number(lon), status, address, area, source,
        )  # fmt: skip
    except ValueError as error:
        return Refused(line, f"unreadable value: {error}")


def _time(text: str, zone: ZoneInfo) -> datetime | None:
    if text in MISSING:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"time {text!r}")


def _number(text: str) -> float | None:
    return None if text in MISSING else float(text)


def _open311_rows(path: Path, zone: ZoneInfo) -> Iterator[Row]:
    # GeoReport v2 answers are JSON arrays: small pages, read whole.
    requests = json.loads(path.read_text(encoding="utf-8"))
    for number, request in enumerate(requests, 1):
        try:
            yield open311_record(number, request, zone)
        except (KeyError, TypeError, ValueError) as error:
            yield Refused(number, f"request {number}: {error}")


def open311_record(number: int, request: Mapping[str, Any], zone: ZoneInfo) -> Row:
    """A GeoReport v2 request (with Chicago's `notes`, where present) as a record."""
    notes = request.get("notes") or []
    closed = next((n["datetime"] for n in notes if n.get("type") == "closed"), None)
    if closed is None and request.get("status") == "closed":
        closed = request.get("updated_datetime")
    created = _time(str(request.get("requested_datetime") or ""), zone)
    if created is None:
        return Refused(number, "no requested_datetime")
    if not _plain(request["service_request_id"]):
        return Refused(number, "no service_request_id")
    transfers = tuple(
        Transfer(_time(n["datetime"], zone), follow(n))  # type: ignore[arg-type]
        for n in notes
        if n.get("type") == "follow_on_created" and follow(n)
    )
    return Record(
        number, _plain(request["service_request_id"]), _plain(request.get("service_name") or ""),
        _plain(request.get("agency_responsible") or ""), created,
        _time(str(closed or ""), zone), _time(str(request.get("expected_datetime") or ""), zone),
        _float(request.get("lat")), _float(request.get("long")),
        _plain(request.get("status") or ""), _plain(request.get("address") or ""), "", "",
        transfers,
    )  # fmt: skip


def follow(note: Mapping[str, Any]) -> str:
    """The agency a follow-on note hands the request to ("" when none)."""
    return _plain((note.get("extended_attributes") or {}).get("agency_responsible", ""))


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)
