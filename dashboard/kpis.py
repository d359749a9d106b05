"""Evaluation figures (综合评价) computed in SQL over the indexed columns.

Definitions follow shared/DOMAIN.md "Evaluation". A period's cohort is the cases
filed in it; suspended (挂账) cases, like deferred ones, leave the denominators.
- closure rate 结案率 = closed / due-to-close
- on-time closure rate 按期结案率 = closed on time / due-to-close
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from dashboard.models import Case
from streams.names import CaseState


@dataclass(frozen=True)
class Period:
    """A half-open interval of time [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def day_of(cls, moment: datetime, tz: str) -> Period:
        """The calendar day (in the city's time zone) that contains `moment`."""
        local = moment.astimezone(ZoneInfo(tz))
        start = datetime.combine(local.date(), time(0), ZoneInfo(tz))
        return cls(start, start + timedelta(days=1))

    @classmethod
    def month_of(cls, moment: datetime, tz: str) -> Period:
        """The calendar month (in the city's time zone) that contains `moment`."""
        local = moment.astimezone(ZoneInfo(tz))
        start = datetime(local.year, local.month, 1, tzinfo=ZoneInfo(tz))
        after = datetime(
            local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=start.tzinfo
        )
        return cls(start, after)


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


def _count_between(column: Any, period: Period) -> Any:
    return func.count(case((and_(column >= period.start, column < period.end), 1)))


def strip(session: Session, now: datetime, tz: str) -> Strip:
    """Today's counts and the month's closure and on-time rates."""
    today = Period.day_of(now, tz)
    counts: Select[Any] = select(
        _count_between(Case.reported_at, today),
        _count_between(Case.filed_at, today),
        _count_between(Case.dispatched_at, today),
        _count_between(Case.closed_at, today),
    ).where(Case.updated_at >= today.start)
    reported, filed, dispatched, closed = session.execute(counts).one()
    closure, on_time = rates(session, Period.month_of(now, tz))
    return Strip(reported, filed, dispatched, closed, closure, on_time)


def rates(session: Session, period: Period) -> tuple[float | None, float | None]:
    """Closure and on-time closure rates of the cases filed in the period."""
    due, closed, on_time = session.execute(
        select(
            func.count(),
            func.count(case((Case.state == CaseState.CLOSED.value, 1))),
            func.count(case((Case.closed_on_time.is_(True), 1))),
        ).where(
            Case.filed_at >= period.start,
            Case.filed_at < period.end,
            Case.state.not_in([CaseState.VOIDED.value, CaseState.SUSPENDED.value]),
        )
    ).one()
    if not due:
        return None, None
    return closed / due, on_time / due
