"""Figures over a rolling window (the last 30 days), for screens on a month's first days.

On the 1st of a month almost nothing dispatched in it is due yet, so the calendar
month's closure and on-time rates are "—" (issue 11). The same definitions over the
30 days up to now always have a cohort behind them. Everything here calls
dashboard/store/kpis.py's public API: the definitions stay written once, there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from dashboard.store import kpis
from dashboard.store.kpis import Figures, GroupBy, Period
from dashboard.store.models import Case

WINDOW_DAYS = 30


def window(now: datetime, days: int = WINDOW_DAYS) -> Period:
    """The `days` days up to `now` (judged at now, like a running month)."""
    return Period(now - timedelta(days=days), now)


def rates(session: Session, now: datetime, days: int = WINDOW_DAYS) -> kpis.Rates:
    """City-wide closure and on-time closure rates over the window."""
    overall = next(iter(kpis.figures(session, window(now, days), None, now)), None)
    return (None, None) if overall is None else (overall.closure_rate, overall.on_time_rate)


def figures_of(
    session: Session, period: Period, by: GroupBy, code: str, now: datetime
) -> Figures | None:
    """One unit's, district's or street's figures over a period (None: nothing in it)."""
    rows = kpis.figures(session, period, by, now)
    return next((row for row in rows if row.code == code), None)


@dataclass(frozen=True)
class Day:
    """One day of a group's trend: dispatched to it, closed, closed late."""

    day: str  # YYYY-MM-DD in the city's zone
    dispatched: int
    closed: int
    closed_late: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def daily(
    session: Session,
    by: GroupBy,
    code: str,
    now: datetime,
    tz: str,
    days: int = WINDOW_DAYS,
) -> list[Day]:
    """A group's last `days` calendar days (today included), oldest first."""
    today = Period.day_of(now, tz)
    first = (today.start - timedelta(days=days - 1)).date()
    spans = [Period.days(first + timedelta(days=n), first + timedelta(days=n), tz)
             for n in range(days)]  # fmt: skip
    column = getattr(Case, by)  # one of kpis.GROUP_COLUMNS
    late = Case.closed_on_time.is_(False)
    # Conditional counts, three a day, keep it one portable query (figures.hourly_reports).
    counts = []
    for span in spans:
        counts += [_between(Case.dispatched_at, span), _between(Case.closed_at, span),
                   _between(Case.closed_at, span, late)]  # fmt: skip
    since = spans[0].start
    row = session.execute(
        select(*counts).where(column == code, Case.updated_at >= since)
    ).one()  # fmt: skip
    return [
        Day(f"{span.start:%Y-%m-%d}", int(row[3 * n]), int(row[3 * n + 1]), int(row[3 * n + 2]))
        for n, span in enumerate(spans)
    ]


def _between(column: Any, period: Period, *also: Any) -> Any:
    return func.count(case((and_(column >= period.start, column < period.end, *also), 1)))
