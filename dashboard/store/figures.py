"""Figures screens show that cost a scan of the month, recomputed only now and then.

The month's rates and each unit's on-time rates move slowly but cost a few hundred
milliseconds at a million cases; pushes go out up to ten times a second, so these are
kept and refreshed at most every `every` seconds.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from dashboard.store import kpis, rolling
from dashboard.store.kpis import Period
from dashboard.store.models import Case


def unit_rates(session: Session, now: datetime, tz: str) -> dict[str, dict[str, Any]]:
    """Each unit's on-time closure rate today and this month."""
    today = kpis.figures(session, Period.day_of(now, tz), "department", now)
    month = kpis.figures(session, Period.month_of(now, tz), "department", now)
    rates: dict[str, dict[str, Any]] = {}
    for row in month:
        rates.setdefault(str(row.code), {})["month"] = row.on_time_rate
    for row in today:
        rates.setdefault(str(row.code), {})["today"] = row.on_time_rate
    return rates


def hourly_reports(session: Session, now: datetime, tz: str) -> list[int]:
    """Cases reported in each hour of today so far (the KPI strip's sparkline)."""
    today = Period.day_of(now, tz)
    hours = min(24, int((now - today.start).total_seconds() // 3600) + 1)
    edges = [today.start + timedelta(hours=h) for h in range(hours + 1)]
    # One conditional count per hour keeps it one portable query over the index.
    counts = [
        func.count(case((and_(Case.reported_at >= a, Case.reported_at < b), 1)))
        for a, b in zip(edges, edges[1:], strict=False)
    ]
    row = session.execute(select(*counts).where(Case.reported_at >= today.start)).one()
    return [int(n) for n in row]


def kpi_strip(
    session: Session,
    now: datetime,
    tz: str,
    *,
    emergency_raised_ms: int | None = None,
    slow: SlowFigures | None = None,
) -> dict[str, Any]:
    """The KPI strip as screens show it: today's counts, the month's rates and the
    last 30 days' (`*_30d`: never empty on a month's first day), the trend.

    With `slow`, the month's and the window's rates come from it (and the trend only
    when it has just been refreshed); without, everything is computed now. During an
    emergency the strip carries the emergency board's figures too.
    """
    fresh = slow.refresh(session, now) if slow is not None else True
    month = slow.month if slow is not None else None
    strip = kpis.strip(session, now, tz, month).as_dict()
    window = slow.rolling if slow is not None else rolling.rates(session, now)
    strip["closure_rate_30d"], strip["on_time_rate_30d"] = window or (None, None)
    if fresh:
        strip["trend"] = slow.trend if slow is not None else hourly_reports(session, now, tz)
    if emergency_raised_ms is not None:
        strip["emergency"] = emergency_figures(session, emergency_raised_ms, now)
    return strip


def emergency_figures(session: Session, raised_ms: int, now: datetime) -> dict[str, Any]:
    """The emergency board's figures: inspector reports per hour, on-time rate.

    Hours count back from now (at most 12, none before the raise); the on-time rate is
    closed on time / (closed + open overdue) among emergency cases since the raise.
    """
    raised = datetime.fromtimestamp(raised_ms / 1000, tz=now.tzinfo)
    hours = max(1, min(12, int((now - raised).total_seconds() // 3600) + 1))
    edges = [now - timedelta(hours=h) for h in range(hours, -1, -1)]
    inspector = Case.source == "inspector"
    per_hour = [
        func.count(case((and_(inspector, Case.reported_at >= a, Case.reported_at < b), 1)))
        for a, b in zip(edges, edges[1:], strict=False)
    ]
    ours = and_(Case.emergency.is_(True), Case.dispatched_at >= raised)
    closed = func.count(case((and_(ours, Case.closed_at.is_not(None)), 1)))
    on_time = func.count(case((and_(ours, Case.closed_on_time.is_(True)), 1)))
    late_open = func.count(case((and_(ours, Case.closed_at.is_(None), Case.deadline <= now), 1)))
    row = session.execute(
        select(*per_hour, closed, on_time, late_open).where(
            Case.updated_at >= min(raised, edges[0])
        )
    ).one()
    done, good, late = row[-3], row[-2], row[-1]
    return {
        "reports_per_hour": [int(n) for n in row[:-3]],
        "on_time_rate": good / (done + late) if done + late else None,
    }


class SlowFigures:
    """The month's, the last 30 days' and the units' rates, refreshed at most every
    `every` s."""

    def __init__(self, tz: str, every: float = 15.0) -> None:
        self.tz, self.every = tz, every
        self._at = -float("inf")
        self.month: kpis.Rates | None = None
        self.rolling: kpis.Rates | None = None
        self.units: dict[str, dict[str, Any]] = {}
        self.trend: list[int] = []

    def due(self) -> bool:
        """Whether `every` seconds have passed since the last refresh."""
        return time.monotonic() - self._at >= self.every

    def refresh(self, session: Session, now: datetime) -> bool:
        """Recompute if due; whether anything was recomputed."""
        if not self.due():
            return False
        self.month = kpis.month_rates(session, now, self.tz)
        self.rolling = rolling.rates(session, now)
        self.units = unit_rates(session, now, self.tz)
        self.trend = hourly_reports(session, now, self.tz)
        self._at = time.monotonic()
        return True
