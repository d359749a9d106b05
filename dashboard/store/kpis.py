"""Evaluation figures (综合评价), rankings and boards, defined once and computed in SQL.

Figures come from two aggregate queries over indexed columns of `cases` (the cohort
by `dispatched_at`, the reports by `reported_at`); no case is loaded into Python.
The definitions (shared/DOMAIN.md "Evaluation"):

- cohort of a period: cases dispatched (派遣) in it, by `dispatched_at` in the city's
  time zone; voided ones and ones returned (回退) and not yet dispatched again are out.
  A department answers for the cases dispatched to it, a district or street for
  the cases in it.
- judged at J = the period's end, or now while the period runs: a case counts as
  closed if `closed_at` < J, handled if `handled_at` or `closed_at` < J, overdue if
  `deadline` <= J (the instant the wall's light turns red).
- deferred (缓办): a case suspended (挂账) since before J; out of every denominator.
- due-to-close 应结案 = cohort cases, not deferred, closed or overdue at J;
  due-to-handle 应处置 = cohort cases, not deferred, handled or overdue at J.
  A case neither done nor due at J cannot be judged yet and is in neither.
- closure rate 结案率 = closed / due-to-close;
  on-time closure rate 按期结案率 = closed on time / due-to-close;
  in both, a supervised (督办) case weighs 2 in numerator and denominator.
- handling rate 处置率 = handled / due-to-handle;
  rework rate 返工率 = reworked (返工 at least once) / due-to-close;
  overdue-pending rate 超期待处置率 = overdue and not handled / due-to-handle;
  extension rate 延期率 = extended (延期 at least once) / due-to-handle.
- average handling time, per kind: natural hours from dispatch to the (last)
  handling report, over the handled cases of the cohort.
- counts by source: cases reported in the period, by `reported_at`.
- score 0-100 = 40·on-time + 30·closure + 30·handling − 20·rework − 20·overdue-pending
  rate, clamped and rounded to 2 decimals; grade A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E.
  Ranked are the groups with something due-to-close.

A past period keeps its figures for ever: every case is judged as it stood at J,
that is by its latest version (`case_versions`, one row per applied event, at the
event's own time) before J. A return and re-dispatch, a resumption, a failed
verification, an extension, a rework or a supervision after J adds versions after
J and changes nothing before it; so does a deadline recomputed for a new calendar.
Counts by source group a report by the unit or place it had at J as well.
A store from before versions starts with one version per case as it stood then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from dashboard.store.models import Case, CaseVersion
from dashboard.store.sqltime import SecondsBetween
from streams.names import OPEN_STATES, CaseState, Kind, Source

# Any select: the grouping column is added to some of them.
Query: TypeAlias = Select[*tuple[Any, ...]]
GroupBy = Literal["department", "district", "street"]
Rates = tuple[float | None, float | None]

GROUP_COLUMNS = ("department", "district", "street")
V = CaseVersion  # the figures read cases as they stood: their versions
# Never judged: voided, and returned to the centre waiting for another dispatch.
OUT_OF_COHORT = [CaseState.VOIDED.value, CaseState.FILED.value]

# The score of the module doc: points per rate (as a fraction) gained and lost.
SCORE_WEIGHTS = {"on_time_rate": 40.0, "closure_rate": 30.0, "handling_rate": 30.0}
SCORE_PENALTIES = {"rework_rate": 20.0, "overdue_pending_rate": 20.0}
GRADES = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))
LOWEST_GRADE = "E"


@dataclass(frozen=True)
class Period:
    """A half-open interval of time [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def days(cls, first: date, last: date, tz: str) -> Period:
        """The calendar days `first` to `last` inclusive, in the city's time zone."""
        if last < first:
            raise ValueError(f"range ends ({last}) before it starts ({first})")
        return cls(_midnight(first, tz), _midnight(last + timedelta(days=1), tz))

    @classmethod
    def day_of(cls, moment: datetime, tz: str) -> Period:
        """The calendar day (in the city's time zone) that contains `moment`."""
        day = _local_date(moment, tz)
        return cls.days(day, day, tz)

    @classmethod
    def week_of(cls, moment: datetime, tz: str) -> Period:
        """The week, Monday to Sunday in the city's time zone, that contains `moment`."""
        monday = _local_date(moment, tz) - timedelta(days=_local_date(moment, tz).weekday())
        return cls.days(monday, monday + timedelta(days=6), tz)

    @classmethod
    def month_of(cls, moment: datetime, tz: str) -> Period:
        """The calendar month (in the city's time zone) that contains `moment`."""
        first = _local_date(moment, tz).replace(day=1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return cls.days(first, following - timedelta(days=1), tz)

    @classmethod
    def parse(cls, kind: str, value: str, tz: str) -> Period:
        """A period from the HTTP layer's words: day 2026-03-31, week 2026-W14 (or a
        date in it), month 2026-03, range 2026-03-01/2026-03-15 (both days included)."""
        try:
            return _PARSERS[kind](value.strip(), tz)
        except KeyError:
            raise ValueError(f"period kind must be one of {', '.join(_PARSERS)}") from None
        except ValueError as error:
            raise ValueError(f"bad {kind} period {value!r}: {error}") from None

    def judged_at(self, now: datetime) -> datetime:
        """The moment the period is judged at: its end, or now while it runs."""
        return min(self.end.astimezone(UTC), now.astimezone(UTC))

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz))


def _parse_week(value: str, tz: str) -> Period:
    found = re.fullmatch(r"(\d{4})-W(\d{2})", value)
    if found is None:
        return Period.week_of(_midnight(date.fromisoformat(value), tz), tz)
    monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    return Period.days(monday, monday + timedelta(days=6), tz)


def _parse_month(value: str, tz: str) -> Period:
    if re.fullmatch(r"\d{4}-\d{2}", value) is None:
        raise ValueError("expected YYYY-MM")
    return Period.month_of(_midnight(date.fromisoformat(value + "-01"), tz), tz)


def _parse_range(value: str, tz: str) -> Period:
    first, slash, last = value.partition("/")
    if not slash:
        raise ValueError("expected YYYY-MM-DD/YYYY-MM-DD")
    return Period.days(date.fromisoformat(first), date.fromisoformat(last), tz)


_PARSERS: dict[str, Callable[[str, str], Period]] = {
    "day": lambda value, tz: Period.day_of(_midnight(date.fromisoformat(value), tz), tz),
    "week": _parse_week,
    "month": _parse_month,
    "range": _parse_range,
}


@dataclass(frozen=True)
class Figures:
    """The evaluation figures of one group (or of everything, code None) in a period.

    Counts are of cases, weighted_* count a supervised case twice, rates are fractions
    (None when nothing is due), handling_hours is per kind (None when none handled).
    """

    code: str | None
    dispatched: int
    deferred: int
    due_to_close: int
    closed: int
    closed_on_time: int
    due_to_handle: int
    handled: int
    reworked: int
    overdue_pending: int
    extended: int
    weighted_due_to_close: int
    weighted_closed: int
    weighted_on_time: int
    closure_rate: float | None
    on_time_rate: float | None
    handling_rate: float | None
    rework_rate: float | None
    overdue_pending_rate: float | None
    extension_rate: float | None
    handling_hours: dict[str, float | None]
    reported: int
    by_source: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Ranked:
    """One line of a published ranking."""

    rank: int
    code: str
    score: float
    grade: str
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Board:
    """A department's open cases and how many of them are yellow or red now."""

    department: str
    open: int
    yellow: int
    red: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Strip:
    """The KPI strip of the wall: today's flow and the month's rates."""

    reported: int
    filed: int
    dispatched: int
    closed: int
    closure_rate: float | None
    on_time_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _sum(deferred: ColumnElement[bool], *whens: tuple[Any, Any]) -> Any:
    # One CASE per measure: a deferred case adds 0, else the first WHEN that holds.
    # A comparison with NULL is never true in WHEN, so missing times need no care.
    return func.sum(case((deferred, 0), *whens, else_=0))


def _measures(judged: datetime) -> list[Any]:
    """The labelled aggregates of a cohort judged at `judged` (see the module doc)."""
    deferred = and_(V.state == CaseState.SUSPENDED.value, V.suspended_at < judged)
    closed = V.closed_at < judged
    handled = or_(V.handled_at < judged, closed)
    overdue = V.deadline <= judged
    due_close, due_handle = or_(closed, overdue), or_(handled, overdue)
    on_time = and_(closed, V.closed_on_time.is_(True))
    # DOMAIN.md: supervision (督办) counts double in evaluation.
    weight = 1 + cast(V.supervised, Integer)
    measures = {
        "dispatched": func.count(),
        "deferred": func.sum(case((deferred, 1), else_=0)),
        "due_to_close": _sum(deferred, (due_close, 1)),
        "closed": _sum(deferred, (closed, 1)),
        "closed_on_time": _sum(deferred, (on_time, 1)),
        "due_to_handle": _sum(deferred, (due_handle, 1)),
        "handled": _sum(deferred, (handled, 1)),
        "reworked": _sum(deferred, (and_(due_close, V.reworks > 0), 1)),
        "overdue_pending": _sum(deferred, (handled, 0), (overdue, 1)),
        "extended": _sum(deferred, (and_(due_handle, V.extensions > 0), 1)),
        "weighted_due_to_close": _sum(deferred, (due_close, weight)),
        "weighted_closed": _sum(deferred, (closed, weight)),
        "weighted_on_time": _sum(deferred, (on_time, weight)),
    }
    took = SecondsBetween(V.dispatched_at, V.handled_at)
    for kind in Kind:
        done = and_(V.handled_at < judged, V.kind == kind.value)
        measures[f"seconds_{kind.value}"] = func.avg(case((deferred, None), (done, took)))
    return [expression.label(name) for name, expression in measures.items()]


def _grouped(query: Query, column: Any) -> Query:
    if column is None:
        return query
    # Cases without a value for the grouping column show only in the overall row.
    return query.add_columns(column.label("code")).where(column.is_not(None)).group_by(column)


def _as_judged(judged: datetime) -> ColumnElement[bool]:
    """The version is its case's latest one before `judged`: the case as it stood."""
    later = aliased(CaseVersion)
    newer = or_(later.at > V.at, and_(later.at == V.at, later.id > V.id))
    return ~exists().where(later.case_id == V.case_id, later.at < judged, newer)


def _cohort_query(period: Period, judged: datetime, by: str | None) -> Query:
    """One query: the measures of the period's cohort as it stood when judged, per group."""
    query = select(*_measures(judged)).where(
        V.dispatched_at >= period.start,
        V.dispatched_at < period.end,
        V.at < judged,
        V.state.not_in(OUT_OF_COHORT),
        _as_judged(judged),
    )
    return _grouped(query, _column(by, V))


def _source_query(period: Period, judged: datetime, by: str | None) -> Query:
    """One query: the cases reported in the period, per source and group (the group
    the case was in when judged: a later dispatch does not move a past report)."""
    query = (
        select(Case.source, func.count().label("n"))
        .where(Case.reported_at >= period.start, Case.reported_at < period.end)
        .group_by(Case.source)
    )
    if by is None:
        return query
    query = query.join(V, V.case_id == Case.case_id).where(V.at < judged, _as_judged(judged))
    return _grouped(query, _column(by, V))


def _column(by: str | None, table: Any) -> Any:
    if by is not None and by not in GROUP_COLUMNS:
        raise ValueError(f"figures are grouped by one of {', '.join(GROUP_COLUMNS)}")
    return None if by is None else getattr(table, by)


def figures(session: Session, period: Period, by: GroupBy | None, now: datetime) -> list[Figures]:
    """Evaluation figures per group (by code), or one overall row when `by` is None."""
    _column(by, V)  # refuses an unknown grouping before any query
    judged = period.judged_at(now)
    cohort = {
        row.get("code"): row
        for row in session.execute(_cohort_query(period, judged, by)).mappings()
    }
    sources: dict[str | None, dict[str, int]] = {}
    for row in session.execute(_source_query(period, judged, by)).mappings():
        sources.setdefault(row.get("code"), {})[row["source"]] = int(row["n"])
    codes = sorted(set(cohort) | set(sources), key=lambda code: code or "")
    return [_figures(code, cohort.get(code, {}), sources.get(code, {})) for code in codes]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _hours(seconds: Any) -> float | None:
    # PostgreSQL's EXTRACT gives NUMERIC, so the average comes back as a Decimal.
    return None if seconds is None else float(seconds) / 3600


def _figures(code: str | None, row: Any, sources: dict[str, int]) -> Figures:
    """The figures of one group from its row of measures and its counts by source."""
    n = {name: int(row.get(name) or 0) for name in _COUNTS}
    return Figures(
        code=code,
        **n,
        closure_rate=_ratio(n["weighted_closed"], n["weighted_due_to_close"]),
        on_time_rate=_ratio(n["weighted_on_time"], n["weighted_due_to_close"]),
        handling_rate=_ratio(n["handled"], n["due_to_handle"]),
        rework_rate=_ratio(n["reworked"], n["due_to_close"]),
        overdue_pending_rate=_ratio(n["overdue_pending"], n["due_to_handle"]),
        extension_rate=_ratio(n["extended"], n["due_to_handle"]),
        handling_hours={kind.value: _hours(row.get(f"seconds_{kind.value}")) for kind in Kind},
        reported=sum(sources.values()),
        by_source={source.value: sources.get(source.value, 0) for source in Source},
    )


_COUNTS = (
    "dispatched",
    "deferred",
    "due_to_close",
    "closed",
    "closed_on_time",
    "due_to_handle",
    "handled",
    "reworked",
    "overdue_pending",
    "extended",
    "weighted_due_to_close",
    "weighted_closed",
    "weighted_on_time",
)


def score(row: Figures) -> float | None:
    """The 0-100 score of SCORE_WEIGHTS and SCORE_PENALTIES; None with nothing due."""
    if not row.due_to_close:
        return None
    gained = sum(w * (getattr(row, name) or 0.0) for name, w in SCORE_WEIGHTS.items())
    lost = sum(w * (getattr(row, name) or 0.0) for name, w in SCORE_PENALTIES.items())
    return round(min(100.0, max(0.0, gained - lost)), 2)


def grade(points: float) -> str:
    """The grade of a score: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below."""
    return next((letter for floor, letter in GRADES if points >= floor), LOWEST_GRADE)


def ranking(
    session: Session, period: Period, by: Literal["department", "district"], now: datetime
) -> list[Ranked]:
    """Groups with something due, best score first; equal scores share a rank."""
    scored = [(score(row), row) for row in figures(session, period, by, now)]
    ranked = sorted(
        ((points, row) for points, row in scored if points is not None),
        key=lambda item: (-item[0], item[1].code or ""),
    )
    out: list[Ranked] = []
    for place, (points, row) in enumerate(ranked, 1):
        rank = out[-1].rank if out and out[-1].score == points else place
        out.append(Ranked(rank, row.code or "", points, grade(points), row))
    return out


def board_counts(session: Session, now: datetime) -> list[Board]:
    """Per department: open cases, and how many are yellow and red now, as the wall
    counts them (no light without a deadline or while suspended); reddest first."""
    suspended = Case.state == CaseState.SUSPENDED.value
    red = func.sum(case((suspended, 0), (Case.deadline <= now, 1), else_=0))
    yellow = func.sum(
        case((suspended, 0), (Case.deadline <= now, 0), (Case.warn_at <= now, 1), else_=0)
    )
    query = (
        select(Case.department, func.count(), yellow, red)
        .where(Case.state.in_(OPEN_STATES), Case.department.is_not(None))
        .group_by(Case.department)
    )
    boards = [Board(d, int(o), int(y or 0), int(r or 0)) for d, o, y, r in session.execute(query)]
    return sorted(boards, key=lambda b: (-b.red, -b.yellow, -b.open, b.department))


def _count_between(column: Any, period: Period) -> Any:
    return func.count(case((and_(column >= period.start, column < period.end), 1)))


def month_rates(session: Session, now: datetime, tz: str) -> Rates:
    """The month's closure and on-time closure rates so far, city-wide."""
    month = Period.month_of(now, tz)
    # Only the cohort query: the wall needs no counts by source.
    row = session.execute(_cohort_query(month, month.judged_at(now), None)).mappings().one()
    overall = _figures(None, row, {})
    return overall.closure_rate, overall.on_time_rate


def strip(session: Session, now: datetime, tz: str, rates: Rates | None = None) -> Strip:
    """Today's counts and the month's rates (`rates` if given, from month_rates)."""
    # The month's rates cost a scan of the month (~0.3 s at a million cases) and move
    # slowly; a caller pushing often may compute them less often and pass them in.
    today = Period.day_of(now, tz)
    counts: Query = select(
        _count_between(Case.reported_at, today),
        _count_between(Case.filed_at, today),
        _count_between(Case.dispatched_at, today),
        _count_between(Case.closed_at, today),
    ).where(Case.updated_at >= today.start)
    reported, filed, dispatched, closed = session.execute(counts).one()
    closure, on_time = rates or month_rates(session, now, tz)
    return Strip(reported, filed, dispatched, closed, closure, on_time)
