"""What the duty commander's desk reads: its filter over cases, its export, its alerts seen.

The filter is the desk's URL query (so a commander can bookmark "all red cases of the
sanitation bureau"): the browser applies it to the table it holds, and this module
applies the same rule in SQL for the export. The rule is written down once here and
mirrored in assets/desk.js; tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dashboard.store.models import AlertAck, Case
from dashboard.store.snapshot import DESK_COLUMNS, open_cases, rows, select_cases
from streams.names import CLOSED_STATES, OPEN_STATES

# A closed case stays on the desk (when asked for) this long after closing.
RECENTLY_CLOSED = timedelta(hours=24)
MULTI = ("dep", "dis", "kind", "major", "cat", "src", "st", "light", "u")
MAX_TEXT = 100
ACK_KEYS_MAX = 500


@dataclass(frozen=True)
class DeskFilter:
    """The desk's filter: each field a set of allowed values (empty: any)."""

    values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    supervised: bool = False
    text: str = ""
    closed: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> DeskFilter:
        """From the URL query: `dep=sanitation,water&light=red&q=井盖&sv=1&closed=1`."""
        values = {
            key: frozenset(v for v in str(query.get(key, "")).split(",") if v) for key in MULTI
        }
        return cls(
            values={k: v for k, v in values.items() if v},
            supervised=query.get("sv") == "1",
            text=str(query.get("q", "")).strip()[:MAX_TEXT],
            closed=query.get("closed") == "1",
        )

    def where(self, now: datetime) -> list[Any]:
        """The SQL conditions of this filter at `now`."""
        columns = {"dep": Case.department, "dis": Case.district, "kind": Case.kind,
                   "cat": Case.category, "src": Case.source, "st": Case.state,
                   "u": Case.urgency}  # fmt: skip
        found: list[Any] = [
            columns[key].in_(sorted(allowed))
            for key, allowed in self.values.items()
            if key in columns
        ]
        if "major" in self.values:
            found.append(or_(*(Case.category.startswith(m) for m in sorted(self.values["major"]))))
        if "light" in self.values:
            found.append(or_(*(_light(light, now) for light in sorted(self.values["light"]))))
        if self.supervised:
            found.append(Case.supervised.is_(True))
        if self.text:
            like = f"%{_escaped(self.text)}%"
            found.append(or_(*(c.ilike(like, escape="\\") for c in
                               (Case.case_id, Case.address, Case.description))))  # fmt: skip
        return found


def _light(light: str, now: datetime) -> Any:
    """A traffic light in SQL, as lifecycle.light_of decides it (none: no running clock)."""
    running = and_(Case.deadline.is_not(None), Case.warn_at.is_not(None),
                   Case.state.in_(OPEN_STATES), Case.state != "suspended")  # fmt: skip
    if light == "red":
        return and_(running, Case.deadline <= now)
    if light == "yellow":
        return and_(running, Case.warn_at <= now, Case.deadline > now)
    if light == "green":
        return and_(running, Case.warn_at > now)
    return ~running


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def desk_cases(session: Session, now: datetime, closed: bool = False) -> dict[str, Any]:
    """The desk's table: every open case (and, on demand, the recently closed)."""
    table = open_cases(session, DESK_COLUMNS)
    if closed:
        recent = (
            select_cases(DESK_COLUMNS)
            .where(Case.state.in_(CLOSED_STATES), Case.updated_at >= now - RECENTLY_CLOSED)
            .order_by(Case.updated_at.desc())
        )
        table["rows"].extend(rows(session, recent, DESK_COLUMNS))
    return table


def filtered(session: Session, desk_filter: DeskFilter, now: datetime) -> Iterator[Case]:
    """The cases a filter keeps, most urgent deadline first, read in chunks."""
    states = (*OPEN_STATES, *CLOSED_STATES) if desk_filter.closed else OPEN_STATES
    query = select(Case).where(Case.state.in_(states), *desk_filter.where(now))
    if desk_filter.closed:
        query = query.where(
            or_(Case.state.in_(OPEN_STATES), Case.updated_at >= now - RECENTLY_CLOSED)
        )
    query = query.order_by(Case.deadline.is_(None), Case.deadline, Case.case_id)
    yield from session.scalars(query.execution_options(yield_per=2000))


CSV_HEADER = ("case_id", "state", "kind", "category", "urgency", "source", "district",
              "street", "department", "reported_at", "deadline", "light", "urges",
              "supervised", "emergency", "address", "description")  # fmt: skip


def export_rows(cases: Iterable[Case], light: Any) -> Iterator[list[Any]]:
    """The export's header, then one row per case, as plain values.

    dashboard.web.csvout writes them (BOM, formulas defused): the store says what the
    export holds, the web layer how a spreadsheet must receive it.
    """
    yield list(CSV_HEADER)
    for case in cases:
        found = light(case)
        yield [
            case.case_id, case.state, case.kind, case.category, case.urgency, case.source,
            case.district, case.street, case.department, _iso(case.reported_at),
            _iso(case.deadline), found.value if found else "", case.urges, case.supervised,
            case.emergency, case.address or "", case.description or "",
        ]  # fmt: skip


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def acknowledged(session: Session, username: str, since: datetime) -> list[str]:
    """The alert keys a user has seen since `since`."""
    query = select(AlertAck.key).where(AlertAck.username == username, AlertAck.at >= since)
    return list(session.scalars(query))


def acknowledge(session: Session, username: str, keys: Iterable[str], at: datetime) -> int:
    """Record alerts as seen by a user (in the caller's transaction); how many were new."""
    wanted = {str(k)[:160] for k in keys}
    if not wanted:
        return 0
    query = select(AlertAck.key).where(AlertAck.username == username, AlertAck.key.in_(wanted))
    new = wanted - set(session.scalars(query))
    session.add_all(AlertAck(username=username, key=key, at=at) for key in sorted(new))
    return len(new)
