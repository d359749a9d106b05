"""Deadline arithmetic (处置时限) for dispatched cases: clocks, extensions, suspensions.

Pure functions over a WorkingCalendar, no I/O. The server stores one Clock per open
dispatched case and derives the traffic light (green / yellow / red) from it.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard.domain.limits import Limit, LimitUnit
from dashboard.domain.workcal import WorkingCalendar
from streams.names import Light


@dataclass(frozen=True)
class Clock:
    """The deadline of an open dispatched case and the instant its light turns yellow."""

    deadline: datetime
    warn_at: datetime

    def __post_init__(self) -> None:
        if _utc(self.warn_at) > _utc(self.deadline):
            raise ValueError(f"Clock warn_at {self.warn_at} is after deadline {self.deadline}")


def _utc(at: datetime) -> datetime:
    """`at` in UTC: with a shared tzinfo Python compares wall times, wrong across DST."""
    if at.tzinfo is None or at.utcoffset() is None:
        # astimezone() would silently read a naive time as the server's local time.
        raise ValueError(f"datetime must be timezone-aware, got naive {at.isoformat()}")
    return at.astimezone(UTC)


def _hours_kind(unit: LimitUnit) -> LimitUnit:
    """The hours that extensions and suspensions of a `unit` limit are counted in."""
    return LimitUnit.WORKING_HOURS if unit.is_working_time else LimitUnit.NATURAL_HOURS


def start_clock(
    start: datetime, limit: Limit, calendar: WorkingCalendar, warn_ratio: float = 0.8
) -> Clock:
    """Start the clock of a case dispatched at `start` with handling limit `limit`."""
    # DOMAIN.md: green while <= 80% of the limit is used, yellow from there to 100%.
    if not 0 < warn_ratio <= 1:
        raise ValueError(f"warn_ratio must be in (0, 1], got {warn_ratio}")
    return Clock(
        deadline=calendar.add(start, limit.value, limit.unit),
        warn_at=calendar.add(start, limit.value * warn_ratio, limit.unit),
    )


def extend_clock(clock: Clock, hours: float, unit: LimitUnit, calendar: WorkingCalendar) -> Clock:
    """Apply an approved extension (延期) of `hours` hours of the limit's kind of time."""
    kind = _hours_kind(unit)
    return Clock(
        deadline=calendar.add(clock.deadline, hours, kind),
        warn_at=calendar.add(clock.warn_at, hours, kind),
    )


def pause_clock(
    clock: Clock,
    paused_at: datetime,
    resumed_at: datetime,
    unit: LimitUnit,
    calendar: WorkingCalendar,
) -> Clock:
    """Give back the `unit` time a suspension (挂账) from paused_at to resumed_at took."""
    if _utc(resumed_at) < _utc(paused_at):
        raise ValueError(f"resumed_at {resumed_at} is before paused_at {paused_at}")
    kind = _hours_kind(unit)
    lost = calendar.elapsed(paused_at, resumed_at, kind)

    def resume(at: datetime) -> datetime:
        if _utc(at) <= _utc(paused_at):
            return at  # already passed before the suspension: an overdue case stays overdue
        if _utc(at) < _utc(resumed_at):
            # Fell inside the suspension: what was left at paused_at runs from resumed_at.
            return calendar.add(resumed_at, calendar.elapsed(paused_at, at, kind), kind)
        return calendar.add(at, lost, kind)

    return Clock(deadline=resume(clock.deadline), warn_at=resume(clock.warn_at))


def light(now: datetime, clock: Clock) -> Light:
    """Green before warn_at, yellow from warn_at, red from the deadline on (overdue)."""
    if _utc(now) < _utc(clock.warn_at):
        return Light.GREEN
    if _utc(now) < _utc(clock.deadline):
        return Light.YELLOW
    return Light.RED


def remaining_seconds(now: datetime, clock: Clock) -> float:
    """Natural seconds from `now` to the deadline; negative once overdue."""
    return (_utc(clock.deadline) - _utc(now)).total_seconds()


def on_time(closed_at: datetime, clock: Clock) -> bool:
    """Whether a case closed at `closed_at` beat its deadline (the light was not red)."""
    # Strictly before, to agree with light(): at the deadline instant the case is red.
    return _utc(closed_at) < _utc(clock.deadline)


def emergency_limit(limit: Limit, cap_hours: float, hours_per_working_day: float = 7.0) -> Limit:
    """The natural-hours limit of an emergency case: the limit's hours, at most cap_hours.

    Emergency cases count natural time with at most 12 hours (DOMAIN.md "Emergency
    mode"). A working limit is read as its amount of working hours, taken as natural
    hours: 4 working hours -> 4 h; 1 working day -> hours_per_working_day h (7 h).
    """
    if not math.isfinite(cap_hours) or cap_hours <= 0:
        raise ValueError(f"cap_hours must be a positive number, got {cap_hours}")
    hours = limit.value
    if limit.unit is LimitUnit.WORKING_DAYS:
        hours *= hours_per_working_day
    return Limit(min(hours, cap_hours), LimitUnit.NATURAL_HOURS)
