"""Deadline arithmetic: clocks, extensions, suspensions, traffic lights, emergencies."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.deadlines import (
    Clock,
    emergency_limit,
    extend_clock,
    light,
    on_time,
    pause_clock,
    remaining_seconds,
    start_clock,
)
from dashboard.domain.limits import Limit, LimitUnit
from dashboard.domain.workcal import WorkingCalendar
from streams.names import Light

SHANGHAI = ZoneInfo("Asia/Shanghai")
WH = LimitUnit.WORKING_HOURS
WD = LimitUnit.WORKING_DAYS
NH = LimitUnit.NATURAL_HOURS
CAL = WorkingCalendar()
SECOND = timedelta(seconds=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def monday_clock() -> Clock:
    """4 working hours from Mon 2024-03-18 08:30: warn 11:42, due 15:00."""
    # deadline: 08:30-12:00 = 3.5h, 14:30 + 0.5h = 15:00; warn: 80% = 3.2h, 08:30 + 3h12m.
    return start_clock(at(2024, 3, 18, 8, 30), Limit(4, WH), CAL)


# --- start_clock --------------------------------------------------------------------


def test_start_clock_puts_deadline_at_the_end_of_the_limit() -> None:
    """The deadline is the instant the whole limit is used."""
    assert monday_clock().deadline == at(2024, 3, 18, 15)


def test_start_clock_warns_at_eighty_percent_of_the_limit() -> None:
    """warn_at is the instant 80% of the limit is used."""
    assert monday_clock().warn_at == at(2024, 3, 18, 11, 42)


def test_start_clock_counts_working_days_on_the_calendar() -> None:
    """15 working days from Mon 2024-03-04 08:30 are due Fri 03-22 18:00, warn Tue 03-19 18:00."""
    # 15 x 7h ends with the third week; 80% = 12 working days ends Tuesday of that week.
    clock = start_clock(at(2024, 3, 4, 8, 30), Limit(15, WD), CAL)
    assert (clock.warn_at, clock.deadline) == (at(2024, 3, 19, 18), at(2024, 3, 22, 18))


@pytest.mark.parametrize("ratio", [0, -0.5, 1.5])
def test_start_clock_rejects_a_warn_ratio_outside_zero_to_one(ratio: float) -> None:
    """The warning must come after the start and no later than the deadline."""
    with pytest.raises(ValueError, match="warn_ratio"):
        start_clock(at(2024, 3, 18, 8, 30), Limit(4, WH), CAL, warn_ratio=ratio)


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2025, 12, 31),
        timezones=st.just(SHANGHAI),
    ),
    st.floats(min_value=0.01, max_value=200),
    st.sampled_from([WH, WD, NH]),
)
def test_warning_never_comes_after_the_deadline(
    start: datetime, value: float, unit: LimitUnit
) -> None:
    """warn_at <= deadline for every start and limit."""
    clock = start_clock(start, Limit(value, unit), CAL)
    assert start <= clock.warn_at <= clock.deadline


# --- light, remaining_seconds, on_time ----------------------------------------------


def test_light_is_green_until_warn_at() -> None:
    """Just before warn_at the case is green."""
    assert light(at(2024, 3, 18, 11, 42) - SECOND, monday_clock()) is Light.GREEN


def test_light_turns_yellow_exactly_at_warn_at() -> None:
    """At warn_at the case turns yellow."""
    assert light(at(2024, 3, 18, 11, 42), monday_clock()) is Light.YELLOW


def test_light_stays_yellow_until_the_deadline() -> None:
    """Just before the deadline the case is still yellow."""
    assert light(at(2024, 3, 18, 15) - SECOND, monday_clock()) is Light.YELLOW


def test_light_turns_red_exactly_at_the_deadline() -> None:
    """At the deadline the case is overdue."""
    assert light(at(2024, 3, 18, 15), monday_clock()) is Light.RED


def test_light_compares_instants_across_time_zones() -> None:
    """A UTC `now` is compared as an instant: 07:00 UTC is 15:00 in Shanghai."""
    now = datetime(2024, 3, 18, 7, 0, tzinfo=ZoneInfo("UTC"))
    assert light(now, monday_clock()) is Light.RED


def test_remaining_seconds_is_positive_before_the_deadline() -> None:
    """An hour before the deadline, 3600 seconds remain."""
    assert remaining_seconds(at(2024, 3, 18, 14), monday_clock()) == 3600.0


def test_remaining_seconds_is_negative_once_overdue() -> None:
    """Half an hour after the deadline, -1800 seconds remain."""
    assert remaining_seconds(at(2024, 3, 18, 15, 30), monday_clock()) == -1800.0


def test_closing_before_the_deadline_is_on_time() -> None:
    """A case closed a second early is on time."""
    assert on_time(at(2024, 3, 18, 15) - SECOND, monday_clock())


def test_closing_at_the_deadline_is_late() -> None:
    """A case closed at the deadline instant is late, matching its red light."""
    assert not on_time(at(2024, 3, 18, 15), monday_clock())


def test_naive_now_raises() -> None:
    """A naive `now` is refused rather than read as the server's local time."""
    with pytest.raises(ValueError, match="timezone-aware"):
        light(datetime(2024, 3, 18, 12), monday_clock())


def test_clock_rejects_naive_datetimes() -> None:
    """A Clock holds instants, never naive wall times."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(deadline=datetime(2024, 3, 18, 15), warn_at=at(2024, 3, 18, 11))


def test_clock_rejects_a_warning_after_the_deadline() -> None:
    """warn_at must not come after the deadline."""
    with pytest.raises(ValueError, match="after deadline"):
        Clock(deadline=at(2024, 3, 18, 11), warn_at=at(2024, 3, 18, 15))


# --- extend_clock (延期) ------------------------------------------------------------


def test_extension_adds_working_hours_to_the_deadline() -> None:
    """4 more working hours move a Mon 15:00 deadline to Tue 09:30."""
    # Mon 15:00-18:00 = 3h; Tue 2024-03-19 08:30-09:30 = 1h.
    clock = extend_clock(monday_clock(), 4, WH, CAL)
    assert clock.deadline == at(2024, 3, 19, 9, 30)


def test_extension_moves_warn_at_by_the_same_working_hours() -> None:
    """4 more working hours move a Mon 11:42 warning to Tue 08:42."""
    # 11:42-12:00 = 0.3h; 14:30-18:00 = 3.5h; Tue 08:30 + 0.2h (12 min) = 08:42.
    clock = extend_clock(monday_clock(), 4, WH, CAL)
    assert clock.warn_at == at(2024, 3, 19, 8, 42)


def test_extension_of_a_working_days_limit_adds_working_hours() -> None:
    """For a working-days limit the extension is still counted in working hours."""
    assert extend_clock(monday_clock(), 4, WD, CAL) == extend_clock(monday_clock(), 4, WH, CAL)


def test_extension_of_a_natural_limit_adds_natural_hours() -> None:
    """2 natural hours from Mon 10:00 (due 12:00, warn 11:36) extended by 1h: 13:00, 12:36."""
    clock = start_clock(at(2024, 3, 18, 10), Limit(2, NH), CAL)
    extended = extend_clock(clock, 1, NH, CAL)
    assert (extended.warn_at, extended.deadline) == (at(2024, 3, 18, 12, 36), at(2024, 3, 18, 13))


# --- pause_clock (挂账) -------------------------------------------------------------


def friday_clock() -> Clock:
    """4 working hours from Fri 2024-03-15 16:00: warn Mon 09:42, due Mon 10:30."""
    # deadline: Fri 16:00-18:00 = 2h, Mon 08:30-10:30 = 2h; warn: 3.2h -> Mon 08:30 + 1h12m.
    return start_clock(at(2024, 3, 15, 16), Limit(4, WH), CAL)


def test_suspension_across_a_weekend_adds_back_only_working_time() -> None:
    """Suspended Fri 17:00 to Mon 08:30 gives back 1 working hour, not 63.5 natural ones."""
    # Fri 17:00-18:00 is the only office time in the suspension.
    clock = pause_clock(friday_clock(), at(2024, 3, 15, 17), at(2024, 3, 18, 8, 30), WH, CAL)
    assert clock.deadline == at(2024, 3, 18, 11, 30)


def test_suspension_moves_a_pending_warning_by_the_same_working_time() -> None:
    """The Mon 09:42 warning moves by the same 1 working hour to 10:42."""
    clock = pause_clock(friday_clock(), at(2024, 3, 15, 17), at(2024, 3, 18, 8, 30), WH, CAL)
    assert clock.warn_at == at(2024, 3, 18, 10, 42)


def test_suspension_outside_office_hours_changes_nothing() -> None:
    """A suspension over a Saturday and Sunday holds no working time to give back."""
    clock = pause_clock(friday_clock(), at(2024, 3, 16, 9), at(2024, 3, 17, 20), WH, CAL)
    assert clock == friday_clock()


def test_suspension_leaves_an_already_passed_warning_in_place() -> None:
    """A warning that passed before the suspension stays where it was."""
    # Warned at Mon 11:42; suspended at 14:30, after the warning.
    clock = pause_clock(monday_clock(), at(2024, 3, 18, 14, 30), at(2024, 3, 19, 8, 30), WH, CAL)
    assert clock.warn_at == at(2024, 3, 18, 11, 42)


def test_deadline_falling_inside_a_suspension_resumes_with_its_remaining_time() -> None:
    """0.5h was left at the 14:30 suspension, so the deadline becomes Tue 09:00."""
    # Due Mon 15:00; suspended Mon 14:30 with 14:30-15:00 = 0.5h left; resumed Tue 08:30.
    clock = pause_clock(monday_clock(), at(2024, 3, 18, 14, 30), at(2024, 3, 19, 8, 30), WH, CAL)
    assert clock.deadline == at(2024, 3, 19, 9)


def test_suspension_does_not_rescue_an_overdue_case() -> None:
    """A deadline already passed when the case is suspended stays passed."""
    clock = pause_clock(monday_clock(), at(2024, 3, 18, 16), at(2024, 3, 19, 10), WH, CAL)
    assert clock == monday_clock()


def test_suspension_of_a_natural_limit_adds_back_natural_time() -> None:
    """A 30-minute suspension of a natural-hours clock moves both instants by 30 minutes."""
    # 2 NH from Mon 10:00: due 12:00, warn 11:36; paused 10:30-11:00.
    clock = start_clock(at(2024, 3, 18, 10), Limit(2, NH), CAL)
    paused = pause_clock(clock, at(2024, 3, 18, 10, 30), at(2024, 3, 18, 11), NH, CAL)
    assert (paused.warn_at, paused.deadline) == (at(2024, 3, 18, 12, 6), at(2024, 3, 18, 12, 30))


def test_resuming_before_pausing_raises() -> None:
    """A suspension cannot end before it starts."""
    with pytest.raises(ValueError, match="before paused_at"):
        pause_clock(monday_clock(), at(2024, 3, 18, 11), at(2024, 3, 18, 10), WH, CAL)


# --- emergency_limit ----------------------------------------------------------------


def test_emergency_limit_caps_working_days_at_the_cap() -> None:
    """15 working days (105 working hours) become 12 natural hours."""
    assert emergency_limit(Limit(15, WD), 12) == Limit(12, NH)


def test_emergency_limit_reads_working_hours_as_natural_hours() -> None:
    """4 working hours become 4 natural hours."""
    assert emergency_limit(Limit(4, WH), 12) == Limit(4, NH)


def test_emergency_limit_reads_one_working_day_as_a_working_days_hours() -> None:
    """1 working day is 7 working hours, so 7 natural hours."""
    assert emergency_limit(Limit(1, WD), 12) == Limit(7, NH)


def test_emergency_limit_keeps_a_short_natural_limit() -> None:
    """2 natural hours stay 2 natural hours."""
    assert emergency_limit(Limit(2, NH), 12) == Limit(2, NH)


def test_emergency_limit_caps_a_long_natural_limit() -> None:
    """A 24-hour natural limit is cut to the 12-hour cap."""
    assert emergency_limit(Limit(24, NH), 12) == Limit(12, NH)


def test_emergency_limit_rejects_a_non_positive_cap() -> None:
    """The cap must be a positive number of hours."""
    with pytest.raises(ValueError, match="cap_hours"):
        emergency_limit(Limit(4, WH), 0)
