"""The working calendar (工作日历): office hours, weekends, holidays and swapped days.

Which days are worked is `days.Days`' business (the city's calendar file over the
holiday libraries); this module counts office time on them. Working time is counted
on the local wall clock of the calendar's time zone: office hours are wall-clock
times and DST transitions happen at night, outside them. Natural hours are plain
elapsed time and stay exact across DST.
"""

import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.domain.days import Days
from dashboard.domain.limits import LimitUnit

DEFAULT_OFFICE_HOURS: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("14:30", "18:00"))

ONE_DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
US_PER_HOUR = 3_600_000_000
_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")

Period = tuple[timedelta, timedelta]  # offsets of an office period from local midnight


def _parse_hhmm(text: str) -> timedelta:
    """Parse "HH:MM" (00:00 to 24:00) into an offset from midnight."""
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"office hours must be 'HH:MM' strings, got {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"office hours must lie within a day (00:00-24:00), got {text!r}")
    return timedelta(hours=hours, minutes=minutes)


def parse_office_hours(office_hours: Sequence[tuple[str, str]]) -> tuple[Period, ...]:
    """Validate office hours and return them as offsets from midnight, in order."""
    if not office_hours or any(len(period) != 2 for period in office_hours):
        raise ValueError(
            f"office hours must be a non-empty list of (start, end), got {office_hours!r}"
        )
    texts = [bound for period in office_hours for bound in period]
    bounds = [_parse_hhmm(text) for text in texts]
    # Strictly increasing bounds: every period is non-empty, and periods neither overlap
    # nor touch (touching periods should be written as one).
    for i in range(1, len(bounds)):
        if bounds[i] <= bounds[i - 1]:
            raise ValueError(
                "office hours must be strictly increasing and non-overlapping: "
                f"{texts[i]} does not come after {texts[i - 1]} in {list(office_hours)}"
            )
    return tuple(zip(bounds[::2], bounds[1::2], strict=True))


def _require_aware(at: datetime) -> None:
    """Raise ValueError for a naive datetime: a deadline needs a real instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {at.isoformat()}")


def _utc(at: datetime) -> datetime:
    """`at` in UTC, where comparing and subtracting instants is exact."""
    _require_aware(at)
    return at.astimezone(UTC)


def _to_us(amount: float, us_per_unit: float) -> int:
    """Convert a non-negative finite amount into whole microseconds."""
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"amount must be a finite number >= 0, got {amount}")
    return round(amount * us_per_unit)


def _us(delta: timedelta) -> int:
    """A timedelta in whole microseconds (exact integer arithmetic, no float drift)."""
    return delta // MICROSECOND


def _midnight(day: date) -> datetime:
    """Local (naive) wall-clock midnight at the start of `day`."""
    return datetime(day.year, day.month, day.day)


class WorkingCalendar:
    """Office hours on the working days of a city's `Days`, in one time zone.

    WORKING_DAYS are counted as value × hours_per_working_day working hours (15 working
    days = 105 working hours with the default 7-hour day) rather than "end of the n-th
    working day": this keeps add() and elapsed() exact inverses and monotonic.
    """

    def __init__(
        self,
        tz: str = "Asia/Shanghai",
        office_hours: Sequence[tuple[str, str]] = DEFAULT_OFFICE_HOURS,
        days: Days | None = None,
    ) -> None:
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.office_hours = tuple(tuple(period) for period in office_hours)
        self._periods = parse_office_hours(office_hours)
        self._day_us = sum(_us(end - start) for start, end in self._periods)
        # Without a city file: China's published schedules, as before calendar files.
        self.days = days if days is not None else Days()

    def __repr__(self) -> str:
        return f"WorkingCalendar(tz={self.tz.key!r}, office_hours={self.office_hours!r})"

    @property
    def hours_per_working_day(self) -> float:
        """Office hours in one working day (7.0 with the default office hours)."""
        return self._day_us / US_PER_HOUR

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day: holidays off, swapped weekend days on."""
        # An uncovered year is counted as well as it can be and reported by
        # Days.problems (healthz, the desk, `calendar check`), not logged here.
        return self.days.is_working_day(day)

    def is_working_time(self, at: datetime) -> bool:
        """Whether `at` falls inside office hours (start inclusive, end exclusive)."""
        local = self._local(at)
        if not self.is_working_day(local.date()):
            return False
        return any(begin <= local < end for begin, end in self._office_periods(local.date()))

    def add(self, start: datetime, amount: float, unit: LimitUnit) -> datetime:
        """The instant when `amount` of `unit` has elapsed since `start`."""
        if unit is LimitUnit.NATURAL_HOURS:
            delta = timedelta(microseconds=_to_us(amount, US_PER_HOUR))
            # Through UTC: aware + timedelta is wall-clock arithmetic and breaks on DST.
            return (_utc(start) + delta).astimezone(self.tz)
        us = _to_us(amount, self._us_per_unit(unit))
        if amount == 0:
            return _utc(start).astimezone(self.tz)
        return self._add_working(self._local(start), us).replace(tzinfo=self.tz)

    def elapsed(self, start: datetime, end: datetime, unit: LimitUnit) -> float:
        """The amount of `unit` between `start` and `end` (0 if end <= start)."""
        # Through UTC: with a shared tzinfo Python compares and subtracts wall times.
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        if unit is LimitUnit.NATURAL_HOURS:
            return _us(end - start) / US_PER_HOUR
        us = self._elapsed_working(self._local(start), self._local(end))
        return us / self._us_per_unit(unit)

    def _us_per_unit(self, unit: LimitUnit) -> int:
        """Microseconds of office time in one `unit` of working time."""
        return self._day_us if unit is LimitUnit.WORKING_DAYS else US_PER_HOUR

    def _local(self, at: datetime) -> datetime:
        """`at` as a naive wall-clock time in the calendar's zone."""
        _require_aware(at)
        return at.astimezone(self.tz).replace(tzinfo=None)

    def _office_periods(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The office periods of `day` as naive local wall-clock intervals."""
        midnight = _midnight(day)
        for start, end in self._periods:
            yield midnight + start, midnight + end

    def _add_working(self, start: datetime, us: int) -> datetime:
        """Walk office periods from local `start` until `us` microseconds are used."""
        day, cur = start.date(), start
        while True:
            if self.is_working_day(day):
                if cur == _midnight(day) and us > self._day_us:
                    us -= self._day_us  # a whole working day: skip without walking periods
                else:
                    for begin, end in self._office_periods(day):
                        begin = max(begin, cur)
                        avail = _us(end - begin)
                        if avail < 0 or (avail == 0 and us > 0):
                            continue  # period already over (or ends exactly at cur)
                        if us <= avail:  # `<=` so a limit used up at 12:00 ends at 12:00
                            return begin + timedelta(microseconds=us)
                        us -= avail
            day += ONE_DAY
            cur = _midnight(day)

    def _elapsed_working(self, start: datetime, end: datetime) -> int:
        """Office microseconds between local `start` and `end`, one day at a time."""
        total, day = 0, start.date()
        while day <= end.date():
            if self.is_working_day(day):
                total += self._overlap_us(day, start, end)
            day += ONE_DAY
        return total

    def _overlap_us(self, day: date, start: datetime, end: datetime) -> int:
        """Office microseconds of `day` that lie between `start` and `end`."""
        midnight = _midnight(day)
        if start <= midnight and midnight + ONE_DAY <= end:
            return self._day_us  # the whole day is inside: no need to clip periods
        total = 0
        for begin, finish in self._office_periods(day):
            total += max(0, _us(min(finish, end) - max(begin, start)))
        return total
