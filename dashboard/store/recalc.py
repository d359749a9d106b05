"""Deadlines recomputed when the working calendar changes (issue 13).

The State Council publishes a year's schedule weeks before it starts, and a city
adds its own days: deadlines stored at dispatch under the old calendar would be
wrong for ever. When a new calendar is loaded (start-up of ingest, or `commandhall
calendar reload`), the open cases whose working-time span crosses a changed day are
rebuilt from their history under the new calendar; each deadline that moves is
written to the audit log with its old and new value. Closed (and rejected, voided)
cases keep the deadline they were judged by. Idempotent: a calendar already
recorded (same fingerprint) changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain import lifecycle
from dashboard.domain.emergency import Timeline
from dashboard.domain.lifecycle import Rules
from dashboard.domain.limits import LimitUnit
from dashboard.store.audit import Result, record
from dashboard.store.batch import payload_of, version_row
from dashboard.store.emergency import load_timeline
from dashboard.store.models import CalendarVersion, Case, CaseVersion, EventRow
from streams.names import OPEN_STATES
from streams.schema import Window, validate

log = logging.getLogger(__name__)

# The days remembered per version: open cases reach back months, deadlines ahead.
BEFORE, AFTER = timedelta(days=400), timedelta(days=800)
ONE = timedelta(days=1)
WORKING_UNITS = [LimitUnit.WORKING_HOURS.value, LimitUnit.WORKING_DAYS.value]


@dataclass
class Recalc:
    """What loading a calendar did."""

    fingerprint: str
    new: bool = False  # the calendar differs from the one recorded last
    changed_days: list[date] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)  # deadlines that moved


def fingerprint(rules: Rules) -> str:
    """Equal for calendars that count the same days and hours."""
    calendar = rules.calendar
    text = f"{calendar.days.fingerprint()}|{calendar.office_hours}|{calendar.tz.key}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def apply_calendar(
    session: Session,
    rules: Rules,
    now: datetime,
    actor: str | None,
    previous: Rules | None = None,
) -> Recalc:
    """Record the calendar of `rules`; recompute the open deadlines it changes.

    `previous` is the calendar the caller (the ingest worker) dispatched by until now:
    when `calendar reload` recorded the new one first, the cases the worker dispatched
    in between under the old one are recomputed all the same.
    """
    result = Recalc(fingerprint(rules))
    last = session.scalar(select(CalendarVersion).order_by(CalendarVersion.id.desc()).limit(1))
    days = _exceptions(rules, now)
    if last is not None and last.fingerprint == result.fingerprint:
        if previous is not None and fingerprint(previous) != result.fingerprint:
            was = _recorded(_hours(previous), _exceptions(previous, now))
            _recompute_all(session, rules, _diff(was, days, _hours(rules)), now, actor, result)
        return result
    # No earlier version (a store from before calendar files) or other office hours:
    # every open working-time deadline may be off, so all of them are rebuilt.
    changed = None if last is None else _diff(json.loads(last.exceptions), days, _hours(rules))
    result.new, result.changed_days = True, sorted(changed or [])
    _recompute_all(session, rules, changed, now, actor, result)
    exceptions = _recorded(_hours(rules), days)
    session.add(
        CalendarVersion(
            loaded_at=now, fingerprint=result.fingerprint, exceptions=json.dumps(exceptions)
        )
    )
    days_text = [d.isoformat() for d in result.changed_days] if changed is not None else "all"
    record(session, actor, "calendar.loaded", Result.OK, at=now, fingerprint=result.fingerprint,
          changed_days=days_text, recomputed=len(result.cases))  # fmt: skip
    log.info("Calendar %s: loaded, %d deadlines recomputed", result.fingerprint, len(result.cases))
    return result


def _recompute_all(
    session: Session,
    rules: Rules,
    changed: set[date] | None,
    now: datetime,
    actor: str | None,
    result: Recalc,
) -> None:
    timeline = load_timeline(session)
    for case in _candidates(session, changed, now):
        if _recompute(session, rules, timeline, case, now, actor):
            result.cases[case.case_id] = case


def _recorded(hours: str, days: dict[date, bool]) -> dict[str, Any]:
    """What a version row keeps: the office hours and the days unlike Mon-Fri."""
    return {"hours": hours, "days": {d.isoformat(): w for d, w in days.items()}}


def _hours(rules: Rules) -> str:
    return f"{rules.calendar.office_hours}|{rules.calendar.tz.key}"


def _exceptions(rules: Rules, now: datetime) -> dict[date, bool]:
    today = now.date()
    return rules.calendar.days.exceptions(today - BEFORE, today + AFTER)


def _diff(last: dict[str, Any], days: dict[date, bool], hours: str) -> set[date] | None:
    """The days whose status differs between the recorded version and `days`; None
    (every day) when the office hours differ."""
    if last.get("hours") != hours:
        return None
    recorded: dict[str, bool] = last.get("days") or {}
    old = {date.fromisoformat(d): bool(w) for d, w in recorded.items()}
    return {d for d in old.keys() | days.keys() if old.get(d) != days.get(d)}


def _candidates(session: Session, changed: set[date] | None, now: datetime) -> list[Case]:
    """Open cases on working time whose span (dispatch to deadline) holds a changed day."""
    query = select(Case).where(
        Case.state.in_(OPEN_STATES),
        Case.deadline.is_not(None),
        Case.limit_unit.in_(WORKING_UNITS),
        # An emergency case on working time had its deadline pulled in by the policy
        # (tighten_open_cases), which history does not replay: it keeps it.
        Case.emergency.is_(False),
    )
    cases = list(session.scalars(query))
    if changed is None:
        return cases
    if not changed:
        return []
    first, last = min(changed), max(changed)

    def crosses(case: Case) -> bool:
        assert case.dispatched_at is not None and case.deadline is not None
        # A suspended case's clock is given back at resumption: its span runs to now.
        end = max(case.deadline, now) if case.suspended_at else case.deadline
        # A day either side: local dates of a UTC instant may differ by one.
        start, stop = case.dispatched_at.date() - ONE, end.date() + ONE
        return start <= last and first <= stop and any(start <= d <= stop for d in changed)

    return [case for case in cases if crosses(case)]


def _recompute(
    session: Session, rules: Rules, timeline: Timeline, case: Case, now: datetime, actor: str | None
) -> bool:
    """Rebuild one case from its history; whether its deadline moved (then audited)."""
    rows = session.scalars(
        select(EventRow).where(EventRow.case_id == case.case_id).order_by(EventRow.id)
    )
    # History was checked when it came in; read it again without the time window.
    events = [validate(payload_of(row), _ANY_TIME) for row in rows]
    rebuilt = lifecycle.rebuild(events, rules, Case, timeline)
    if rebuilt is None or (rebuilt.deadline, rebuilt.warn_at) == (case.deadline, case.warn_at):
        return False
    record(session, actor, "calendar.recomputed", Result.OK, at=now, case=case.case_id,
          old_deadline=_iso(case.deadline), new_deadline=_iso(rebuilt.deadline))  # fmt: skip
    case.deadline, case.warn_at = rebuilt.deadline, rebuilt.warn_at
    session.add(CaseVersion(**version_row(case, now)))
    return True


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


_ANY_TIME = Window(
    earliest=datetime(1970, 1, 1, tzinfo=UTC),
    ahead=timedelta(days=3650),
    deadline_ahead=timedelta(days=3650),
)
