"""After-action reports (复盘): each emergency period with its levels and its own figures.

Kept for every period in `emergencies` / `emergency_levels`, computed on request with
grouped aggregates in SQL (portable to PostgreSQL), exportable as rows for a CSV
(dashboard.web.csvout writes them for Excel).
The definitions (shared/DOMAIN.md "Emergency mode" and "Evaluation"):

- a period runs from `start` = raised_at to `end` = cleared_at (None while in force);
  its levels over time are the spans between its `emergency_levels` rows.
- judged at J = end, or now while the period is in force (never later than now):
  the report is "as of the clearing", so later events leave a cleared period's
  figures alone (with the caveats of dashboard/kpis.py: a re-dispatch, rework or
  resumption rewrites columns that keep no history).
- the period's cases: `emergency` true (the emergency limit or the producer's flag)
  and dispatched in [start, J); voided cases and cases returned (回退) and waiting for
  another dispatch are out, as in kpis.py. A case counts for the department it was
  last dispatched to.
- closed: closed_at < J; closed on time: closed and `closed_on_time`;
  open = cases − closed (at J: not closed, whatever the state).
- overdue open: open, deadline <= J (the wall's red), not suspended (挂账) since
  before J (the clock stops), and not handled before its deadline — such a case only
  waits for verification and will close on time (lifecycle judges on-time by the
  handling report), so it does not count against its department.
- on-time rate = closed on time / (closed + overdue open); an open case not yet due
  is not judged; None when nothing is judged. Cases are counted once: unlike the
  evaluation ranking, supervised (督办) cases do not weigh double here.
- average handling hours: the mean natural hours from dispatched_at to handled_at
  over the cases with handled_at < J; None when none was handled.
- totals: the same figures over every department (department "*"); the average is
  over all handled cases, not a mean of the departments' means.
- reports per hour: every case reported in [start, J) — all categories, emergency or
  not, since the hall sees the whole flow — in one-hour buckets counted from start
  ([start + k h, start + (k+1) h), the last one cut short at J, empty hours listed
  with 0), each with the reports from all sources and those from inspectors (who
  are all out patrolling during an emergency).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.emergency import ORDER
from dashboard.store.kpis import OUT_OF_COHORT, Query
from dashboard.store.models import Case, Emergency, EmergencyLevel, UTCDateTime
from dashboard.store.sqltime import FloorOf, SecondsBetween
from streams.names import CaseState, Source

HOUR = timedelta(hours=1)
TOTAL = "*"
# Counts summed per department by the units query, then over departments for totals.
TALLIES = ("cases", "closed", "closed_on_time", "overdue_open", "handled", "seconds")


@dataclass(frozen=True)
class LevelSpan:
    """A signal level in force from `start` until `end` (None: still in force)."""

    level: str
    hazard: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class UnitFigures:
    """A department's figures over a period's cases (department "*" for all)."""

    department: str
    cases: int
    closed: int
    closed_on_time: int
    open: int
    overdue_open: int
    on_time_rate: float | None
    average_handling_hours: float | None


@dataclass(frozen=True)
class HourlyReports:
    """Cases reported in the hour from `start`: from all sources, and by inspectors."""

    start: datetime
    reported: int
    inspector: int


@dataclass(frozen=True)
class Report:
    """An emergency period's after-action report; figures as of `judged_at`."""

    id: int
    hazard: str
    start: datetime
    end: datetime | None
    raised_by: str | None
    note: str | None
    cleared_by: str | None
    clear_note: str | None
    judged_at: datetime
    levels: list[LevelSpan]
    units: list[UnitFigures]
    totals: UnitFigures
    reports_per_hour: list[HourlyReports]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, times in ISO 8601 (UTC)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _period_cases(*conditions: Any) -> ColumnElement[bool]:
    """The cases of an emergency period, given the conditions on their dispatch."""
    return and_(Case.emergency.is_(True), Case.state.not_in(OUT_OF_COHORT), *conditions)


def _rank(level: Any) -> Any:
    """A signal level's place in SQL, white lowest (-1 for an unknown level)."""
    return case({lvl.value: place for place, lvl in enumerate(ORDER)}, value=level, else_=-1)


def periods(session: Session) -> list[dict[str, Any]]:
    """Every emergency period, newest first, JSON-ready, for a list page.

    Keys: id, hazard (as raised), highest_level (over the period), start, end (ISO
    8601, end None while in force) and cases (as report() counts them; for a period
    in force, those dispatched since its start).
    """
    cases = (
        select(func.count())
        .where(
            _period_cases(
                Case.dispatched_at >= Emergency.raised_at,
                or_(Emergency.cleared_at.is_(None), Case.dispatched_at < Emergency.cleared_at),
            )
        )
        .scalar_subquery()
    )
    highest = (
        select(func.max(_rank(EmergencyLevel.level)))
        .where(EmergencyLevel.emergency_id == Emergency.id)
        .scalar_subquery()
    )
    query = select(Emergency, highest, cases).order_by(
        Emergency.raised_at.desc(), Emergency.id.desc()
    )
    return [_period_row(*row) for row in session.execute(query)]


def _period_row(period: Emergency, highest: int | None, cases: int) -> dict[str, Any]:
    level = ORDER[highest].value if highest is not None and highest >= 0 else period.level
    return {
        "id": period.id,
        "hazard": period.hazard,
        "highest_level": level,
        "start": period.raised_at.isoformat(),
        "end": period.cleared_at.isoformat() if period.cleared_at else None,
        "cases": int(cases),
    }


def report(session: Session, emergency_id: int, now: datetime) -> Report | None:
    """The after-action report of one period, or None if there is no such period."""
    period = session.get(Emergency, emergency_id)
    if period is None:
        return None
    now = now.astimezone(UTC)  # every time of the report in UTC, as stored
    judged = now if period.cleared_at is None else min(period.cleared_at, now)
    units = _units(session, period.raised_at, judged)
    return Report(
        id=period.id,
        hazard=period.hazard,
        start=period.raised_at,
        end=period.cleared_at,
        raised_by=period.raised_by,
        note=period.note,
        cleared_by=period.cleared_by,
        clear_note=period.clear_note,
        judged_at=judged,
        levels=_levels(session, period),
        units=[_figures(department, tally) for department, tally in units.items()],
        totals=_figures(TOTAL, {name: sum(t[name] for t in units.values()) for name in TALLIES}),
        reports_per_hour=_hourly(session, period.raised_at, judged),
    )


def _levels(session: Session, period: Emergency) -> list[LevelSpan]:
    """The levels over time: each row is in force until the next, the last until end."""
    query = (
        select(EmergencyLevel)
        .where(EmergencyLevel.emergency_id == period.id)
        .order_by(EmergencyLevel.at, EmergencyLevel.id)
    )
    rows: list[EmergencyLevel | None] = [*session.scalars(query), None]
    return [
        LevelSpan(row.level, row.hazard, row.at, following.at if following else period.cleared_at)
        for row, following in pairwise(rows)
        if row is not None
    ]


def _units_query(start: datetime, judged: datetime) -> Query:
    """One query: the tallies of the period's cases per department (module doc)."""
    closed = Case.closed_at < judged
    deferred = and_(Case.state == CaseState.SUSPENDED.value, Case.suspended_at < judged)
    handled = Case.handled_at < judged
    # First WHEN that holds wins: a closed, deferred or handled-in-time case is not
    # overdue; a comparison with NULL never holds, so missing times need no care.
    overdue_open = case(
        (closed, 0),
        (deferred, 0),
        (Case.handled_at < Case.deadline, 0),
        (Case.deadline <= judged, 1),
        else_=0,
    )
    took = SecondsBetween(Case.dispatched_at, Case.handled_at)
    return (
        select(
            Case.department,
            func.count().label("cases"),
            func.sum(case((closed, 1), else_=0)).label("closed"),
            func.sum(case((and_(closed, Case.closed_on_time.is_(True)), 1), else_=0)).label(
                "closed_on_time"
            ),
            func.sum(overdue_open).label("overdue_open"),
            func.count(case((handled, 1))).label("handled"),
            func.sum(case((handled, took))).label("seconds"),
        )
        .where(_period_cases(Case.dispatched_at >= start, Case.dispatched_at < judged))
        .group_by(Case.department)
    )


def _units(session: Session, start: datetime, judged: datetime) -> dict[str, dict[str, float]]:
    """The tallies per department: most cases first, then by department code."""
    rows = session.execute(_units_query(start, judged)).mappings()
    # PostgreSQL's EXTRACT gives NUMERIC, so the sum of seconds comes back a Decimal.
    tallies = {str(row["department"]): {k: float(row[k] or 0) for k in TALLIES} for row in rows}
    return dict(sorted(tallies.items(), key=lambda item: (-item[1]["cases"], item[0])))


def _figures(department: str, tally: Mapping[str, float]) -> UnitFigures:
    """The figures of a department (or all of them) from its tallies."""
    cases, closed, on_time, overdue, handled = (
        int(tally[name])
        for name in ("cases", "closed", "closed_on_time", "overdue_open", "handled")
    )
    judged = closed + overdue
    return UnitFigures(
        department=department,
        cases=cases,
        closed=closed,
        closed_on_time=on_time,
        open=cases - closed,
        overdue_open=overdue,
        on_time_rate=on_time / judged if judged else None,
        average_handling_hours=tally["seconds"] / handled / 3600 if handled else None,
    )


def _hourly(session: Session, start: datetime, judged: datetime) -> list[HourlyReports]:
    """Cases reported in each hour from start until judged (module doc)."""
    since_start = SecondsBetween(literal(start, UTCDateTime()), Case.reported_at)
    # Grouped in an outer query: PostgreSQL would not match an expression with bound
    # parameters in GROUP BY to the same one in SELECT.
    reports = (
        select(FloorOf(since_start / 3600).label("hour"), Case.source)
        .where(Case.reported_at >= start, Case.reported_at < judged)
        .subquery()
    )
    inspector = case((reports.c.source == Source.INSPECTOR.value, 1), else_=0)
    query = select(reports.c.hour, func.count(), func.sum(inspector)).group_by(reports.c.hour)
    counts = {
        int(k): (int(n), int(by_inspectors)) for k, n, by_inspectors in session.execute(query)
    }
    whole, rest = divmod(judged - start, HOUR)
    hours = max(0, whole + (1 if rest else 0))
    return [HourlyReports(start + k * HOUR, *counts.get(k, (0, 0))) for k in range(hours)]


# --- CSV -----------------------------------------------------------------------------

UNIT_COLUMNS = (
    "department/责任单位",
    "cases/案件数",
    "closed/已结案",
    "closed on time/按期结案",
    "open/未结案",
    "overdue open/超期未结案",
    "on-time rate %/按期结案率%",
    "average handling hours/平均处置时长(小时)",
)
LEVEL_COLUMNS = ("level/响应级别", "hazard/灾种", "from/开始", "until/结束")
TOTAL_LABEL = "total/合计"


def csv_rows(report: Report, tz: str | None = None) -> list[list[Any]]:
    """The report as rows for a spreadsheet: a header block, the levels, one row per
    department, then the totals; times in `tz` (default UTC)."""
    levels = [[span.level, span.hazard, _time(span.start, tz), _time(span.end, tz)]
              for span in report.levels]  # fmt: skip
    return [
        *_header_rows(report, tz), [],
        list(LEVEL_COLUMNS), *levels, [],
        list(UNIT_COLUMNS), *(_unit_row(unit.department, unit) for unit in report.units),
        _unit_row(TOTAL_LABEL, report.totals),
    ]  # fmt: skip


def _header_rows(report: Report, tz: str | None) -> list[list[Any]]:
    return [
        ["emergency period/应急期", str(report.id)],
        ["hazard/灾种", report.hazard or ""],
        ["start/开始", _time(report.start, tz)],
        ["end/结束", _time(report.end, tz)],
        ["raised by/发布人", report.raised_by or ""],
        ["note/说明", report.note or ""],
        ["cleared by/解除人", report.cleared_by or ""],
        ["clear note/解除说明", report.clear_note or ""],
        ["figures as of/统计截至", _time(report.judged_at, tz)],
    ]


def _unit_row(label: str, unit: UnitFigures) -> list[Any]:
    return [
        label,
        str(unit.cases),
        str(unit.closed),
        str(unit.closed_on_time),
        str(unit.open),
        str(unit.overdue_open),
        _number(None if unit.on_time_rate is None else unit.on_time_rate * 100),
        _number(unit.average_handling_hours),
    ]


def _time(moment: datetime | None, tz: str | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(tz)) if tz else moment
    # A space rather than "T" reads as people write times; the offset keeps it exact.
    return local.isoformat(sep=" ", timespec="seconds")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
