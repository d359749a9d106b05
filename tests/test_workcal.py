"""The working calendar: office hours, weekends, statutory holidays and swapped days."""

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.limits import LimitUnit
from dashboard.domain.workcal import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
WH = LimitUnit.WORKING_HOURS
WD = LimitUnit.WORKING_DAYS
NH = LimitUnit.NATURAL_HOURS
CAL = WorkingCalendar()
PERIOD_ENDS = {"12:00", "18:00"}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(SHANGHAI)
)
working_units = st.sampled_from([WH, WD])
amounts = st.floats(min_value=0, max_value=150, allow_nan=False)
positive_amounts = st.floats(min_value=1e-3, max_value=150)


# --- properties ---------------------------------------------------------------------


@given(starts, amounts, amounts, st.sampled_from([WH, WD, NH]))
def test_add_is_monotonic_in_amount(start: datetime, a: float, b: float, unit: LimitUnit) -> None:
    """More time never gives an earlier instant."""
    low, high = sorted((a, b))
    assert CAL.add(start, low, unit) <= CAL.add(start, high, unit)


@given(starts, starts, amounts, st.sampled_from([WH, WD, NH]))
def test_add_is_monotonic_in_start(s1: datetime, s2: datetime, x: float, unit: LimitUnit) -> None:
    """A later start never gives an earlier instant."""
    early, late = sorted((s1, s2))
    assert CAL.add(early, x, unit) <= CAL.add(late, x, unit)


@given(starts, positive_amounts, working_units)
def test_working_add_lands_in_office_hours(start: datetime, x: float, unit: LimitUnit) -> None:
    """A positive working amount ends inside office hours or exactly at a period end."""
    end = CAL.add(start, x, unit)
    at_period_end = CAL.is_working_day(end.date()) and end.strftime("%H:%M:%S.%f") in {
        f"{hhmm}:00.000000" for hhmm in PERIOD_ENDS
    }
    assert CAL.is_working_time(end) or at_period_end


@given(starts, amounts, st.sampled_from([WH, WD, NH]))
def test_elapsed_inverts_add(start: datetime, x: float, unit: LimitUnit) -> None:
    """elapsed(s, add(s, x)) == x."""
    assert CAL.elapsed(start, CAL.add(start, x, unit), unit) == pytest.approx(x, abs=1e-6)


@given(starts, positive_amounts, working_units)
def test_working_add_never_beats_natural_add(start: datetime, x: float, unit: LimitUnit) -> None:
    """x working hours (or days) take at least as long as x natural hours."""
    assert CAL.add(start, x, unit) >= CAL.add(start, x, NH)


@given(starts, starts)
def test_working_hours_never_exceed_natural_hours(s1: datetime, s2: datetime) -> None:
    """Office time between two instants is at most the wall time between them."""
    assert CAL.elapsed(s1, s2, WH) <= CAL.elapsed(s1, s2, NH) + 1e-9


# --- ordinary weeks -----------------------------------------------------------------


def test_four_working_hours_from_friday_afternoon_land_on_monday() -> None:
    """4 working hours from Friday 16:00 end on Monday 10:30."""
    # 2024-03-15 is an ordinary Friday: 16:00-18:00 = 2h, weekend off, Mon 08:30-10:30 = 2h.
    assert CAL.add(at(2024, 3, 15, 16), 4, WH) == at(2024, 3, 18, 10, 30)


def test_amount_used_up_at_period_end_returns_that_end() -> None:
    """A limit used up exactly at noon ends at 12:00, not at 14:30."""
    # Mon 2024-03-18 08:30 + 3.5h = 12:00, the end of the morning period.
    assert CAL.add(at(2024, 3, 18, 8, 30), 3.5, WH) == at(2024, 3, 18, 12)


def test_start_in_lunch_break_counts_from_afternoon_period() -> None:
    """A start at 12:30 begins counting at 14:30."""
    # 14:30 + 1h = 15:30.
    assert CAL.add(at(2024, 3, 18, 12, 30), 1, WH) == at(2024, 3, 18, 15, 30)


def test_start_before_office_counts_from_opening() -> None:
    """A start at 07:00 begins counting at 08:30."""
    assert CAL.add(at(2024, 3, 18, 7), 1, WH) == at(2024, 3, 18, 9, 30)


def test_start_on_saturday_counts_from_monday() -> None:
    """A start on an ordinary Saturday begins counting on Monday morning."""
    # 2024-03-16 is a Saturday; Mon 2024-03-18 08:30 + 1h = 09:30.
    assert CAL.add(at(2024, 3, 16, 10), 1, WH) == at(2024, 3, 18, 9, 30)


def test_add_zero_returns_start_in_calendar_zone() -> None:
    """Adding nothing returns the same instant, expressed in the calendar's zone."""
    start = datetime(2024, 3, 16, 2, 0, tzinfo=UTC)  # a Saturday, outside office hours
    result = CAL.add(start, 0, WH)
    assert result == start and result.tzinfo == SHANGHAI


def test_natural_add_is_returned_in_calendar_zone() -> None:
    """Natural hours from a UTC start come back as Shanghai wall time."""
    result = CAL.add(datetime(2024, 3, 16, 2, 0, tzinfo=UTC), 2, NH)
    assert result.tzinfo == SHANGHAI and (result.hour, result.minute) == (12, 0)


def test_fifteen_working_days_are_three_ordinary_weeks() -> None:
    """15 working days from Monday 08:30 end on the third Friday at 18:00."""
    # 15 x 7h = 105 working hours = Mon 2024-03-04 .. Fri 2024-03-22, no holidays in March.
    assert CAL.add(at(2024, 3, 4, 8, 30), 15, WD) == at(2024, 3, 22, 18)


def test_working_day_is_seven_working_hours() -> None:
    """One working day elapses over the same span as seven working hours."""
    start = at(2024, 3, 15, 16)
    assert CAL.add(start, 15, WD) == CAL.add(start, 105, WH)


def test_hours_per_working_day_is_seven_by_default() -> None:
    """08:30-12:00 and 14:30-18:00 make a 7-hour working day."""
    assert CAL.hours_per_working_day == 7.0


def test_elapsed_is_zero_when_end_is_not_after_start() -> None:
    """elapsed() never goes negative."""
    assert CAL.elapsed(at(2024, 3, 18, 10), at(2024, 3, 18, 9), WH) == 0.0


def test_elapsed_over_a_weekend_counts_only_office_time() -> None:
    """Friday 17:00 to Monday 09:00 holds 1.5 working hours."""
    # Fri 17:00-18:00 = 1h, Mon 08:30-09:00 = 0.5h.
    assert CAL.elapsed(at(2024, 3, 15, 17), at(2024, 3, 18, 9), WH) == 1.5


def test_period_start_is_working_time_and_period_end_is_not() -> None:
    """Office periods include their start and exclude their end."""
    assert CAL.is_working_time(at(2024, 3, 18, 8, 30))
    assert not CAL.is_working_time(at(2024, 3, 18, 12))


def test_two_hundred_working_days_are_fast() -> None:
    """A 200-working-day limit is computed without walking minutes (< 5 ms)."""
    start = at(2024, 1, 2, 9)
    CAL.add(start, 200, WD)  # first call fills the holiday cache (chinesecalendar is slow)
    best = min(_timed(lambda: CAL.add(start, 200, WD)) for _ in range(5))
    assert best < 0.005


def _timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` takes."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


# --- Spring Festival 2025 (holidays 01-28..02-04; swapped Sun 01-26 and Sat 02-08) ---


def test_spring_festival_2025_days_follow_the_official_schedule() -> None:
    """Holidays are off and the swapped weekend days are working days."""
    assert CAL.is_working_day(date(2025, 1, 26))  # Sunday, swapped working day
    assert not CAL.is_working_day(date(2025, 1, 28))
    assert not CAL.is_working_day(date(2025, 2, 4))
    assert CAL.is_working_day(date(2025, 2, 8))  # Saturday, swapped working day


def test_limit_spans_spring_festival_2025() -> None:
    """4 working hours from Mon 2025-01-27 16:00 end on Wed 2025-02-05 10:30."""
    # Mon 16:00-18:00 = 2h; 01-28..02-04 holidays; Wed 02-05 08:30-10:30 = 2h.
    assert CAL.add(at(2025, 1, 27, 16), 4, WH) == at(2025, 2, 5, 10, 30)


def test_swapped_sunday_before_spring_festival_is_counted() -> None:
    """1 working hour from Saturday 2025-01-25 ends on the working Sunday 01-26."""
    # Sat 01-25 is off; Sun 01-26 is a swapped working day: 08:30 + 1h = 09:30.
    assert CAL.add(at(2025, 1, 25, 10), 1, WH) == at(2025, 1, 26, 9, 30)


def test_swapped_saturday_after_spring_festival_is_counted() -> None:
    """2 working hours from Friday 2025-02-07 17:00 end on the working Saturday 02-08."""
    # Fri 17:00-18:00 = 1h; Sat 02-08 is a swapped working day: 08:30-09:30 = 1h.
    assert CAL.add(at(2025, 2, 7, 17), 2, WH) == at(2025, 2, 8, 9, 30)


# --- National Day 2025 (holidays 10-01..10-08; swapped Sun 09-28 and Sat 10-11) -----


def test_national_day_2025_days_follow_the_official_schedule() -> None:
    """Holidays are off and the swapped weekend days are working days."""
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, swapped working day
    assert not CAL.is_working_day(date(2025, 10, 1))
    assert not CAL.is_working_day(date(2025, 10, 8))
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday, swapped working day


def test_limit_spans_national_day_2025() -> None:
    """2 working hours from Tue 2025-09-30 17:00 end on Thu 2025-10-09 09:30."""
    # Tue 17:00-18:00 = 1h; 10-01..10-08 holidays; Thu 10-09 08:30-09:30 = 1h.
    assert CAL.add(at(2025, 9, 30, 17), 2, WH) == at(2025, 10, 9, 9, 30)


def test_national_day_2025_holidays_hold_no_working_time() -> None:
    """From the last working hour before National Day to the first after, 2h elapse."""
    # Tue 09-30 17:00-18:00 = 1h; Thu 10-09 08:30-09:30 = 1h.
    assert CAL.elapsed(at(2025, 9, 30, 17), at(2025, 10, 9, 9, 30), WH) == 2.0


def test_swapped_saturday_after_national_day_is_counted() -> None:
    """2 working hours from Friday 2025-10-10 17:00 end on the working Saturday 10-11."""
    # Fri 17:00-18:00 = 1h; Sat 10-11 08:30-09:30 = 1h.
    assert CAL.add(at(2025, 10, 10, 17), 2, WH) == at(2025, 10, 11, 9, 30)


# --- configuration and validation ---------------------------------------------------


def test_single_office_period_changes_the_arithmetic() -> None:
    """With office hours 09:00-17:00, 4 working hours from Friday 16:00 end Monday 12:00."""
    calendar = WorkingCalendar(office_hours=(("09:00", "17:00"),))
    # Fri 16:00-17:00 = 1h; Mon 2024-03-18 09:00-12:00 = 3h.
    assert calendar.add(at(2024, 3, 15, 16), 4, WH) == at(2024, 3, 18, 12)


def test_single_office_period_makes_an_eight_hour_day() -> None:
    """09:00-17:00 is an 8-hour working day."""
    assert WorkingCalendar(office_hours=(("09:00", "17:00"),)).hours_per_working_day == 8.0


@pytest.mark.parametrize(
    "office_hours",
    [
        (),
        (("8:30", "12:00"),),
        (("08:30", "25:00"),),
        (("08:60", "12:00"),),
        (("12:00", "08:30"),),
        (("08:30", "08:30"),),
        (("08:30", "12:00"), ("11:00", "18:00")),
        (("14:30", "18:00"), ("08:30", "12:00")),
        (("08:30", "12:00", "18:00"),),
    ],
)
def test_invalid_office_hours_are_rejected(office_hours: tuple[tuple[str, str], ...]) -> None:
    """Malformed, empty, reversed or overlapping office hours raise ValueError."""
    with pytest.raises(ValueError, match="office hours"):
        WorkingCalendar(office_hours=office_hours)


def test_unknown_time_zone_is_rejected() -> None:
    """A time zone zoneinfo does not know raises ValueError."""
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar(tz="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add(datetime(2024, 3, 18, 9), 1, WH),
        lambda: CAL.add(datetime(2024, 3, 18, 9), 1, NH),
        lambda: CAL.elapsed(datetime(2024, 3, 18, 9), at(2024, 3, 18, 10), WH),
        lambda: CAL.is_working_time(datetime(2024, 3, 18, 9)),
    ],
)
def test_naive_datetime_raises(call: Callable[[], object]) -> None:
    """Every instant must carry a time zone."""
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_amount_raises() -> None:
    """Time cannot be added backwards."""
    with pytest.raises(ValueError, match="amount"):
        CAL.add(at(2024, 3, 18, 9), -1, WH)


def test_natural_hours_are_exact_across_dst() -> None:
    """2 natural hours from 01:00 CET on the spring-forward night end at 04:00 CEST."""
    berlin = ZoneInfo("Europe/Berlin")
    calendar = WorkingCalendar(tz="Europe/Berlin")
    start = datetime(2025, 3, 30, 1, 0, tzinfo=berlin)
    # 01:00 CET = 00:00 UTC; + 2h = 02:00 UTC = 04:00 CEST (02:00-03:00 does not exist).
    assert calendar.add(start, 2, NH) == datetime(2025, 3, 30, 4, 0, tzinfo=berlin)
    assert calendar.elapsed(start, calendar.add(start, 2, NH), NH) == 2.0


def test_natural_elapsed_is_exact_across_dst() -> None:
    """01:00 to 04:00 wall time on the spring-forward night is 2 natural hours."""
    berlin = ZoneInfo("Europe/Berlin")
    calendar = WorkingCalendar(tz="Europe/Berlin")
    start, end = (datetime(2025, 3, 30, h, 0, tzinfo=berlin) for h in (1, 4))
    assert calendar.elapsed(start, end, NH) == 2.0


# --- outside the years chinesecalendar covers (tests/test_calendar.py has more) ------


def test_uncovered_year_counts_weekends() -> None:
    """In 2099 an ordinary Monday is a working day and Saturday is not."""
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2099, 1, 5))  # Monday
    assert not calendar.is_working_day(date(2099, 1, 3))  # Saturday
