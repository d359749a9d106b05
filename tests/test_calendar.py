"""The city's working calendar: its file over the libraries, worked examples, coverage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.domain.calendarfile import load_days
from dashboard.domain.catalogue import DEFAULT_DIR
from dashboard.domain.configfile import ConfigError
from dashboard.domain.days import Coverage, Days, Source, YearEntry
from dashboard.domain.limits import LimitUnit
from dashboard.domain.workcal import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
WH, WD, NH = LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS, LimitUnit.NATURAL_HOURS
DATA = DEFAULT_DIR.parent

# A test schedule for 2027 (not the official one, which is not published yet): the
# Spring Festival week off from Friday 5 to Thursday 11 February, Sunday 31 January
# and Saturday 13 February swapped into working days.
TEST_2027 = """\
source: chinesecalendar
years:
  2027:
    complete: true
    notice: a test schedule
    days_off:
      - 2027-01-01
      - 2027-02-05..2027-02-11
    working_days: [2027-01-31, 2027-02-13]
"""


def zhuhai() -> WorkingCalendar:
    """The built-in city's calendar as shipped."""
    days, _ = load_days(DATA / "zhuhai")
    return WorkingCalendar(days=days)


def from_file(tmp_path: Path, text: str, tz: str = "Asia/Shanghai") -> WorkingCalendar:
    """A calendar from a calendar.yaml with `text`."""
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    days, hours = load_days(tmp_path)
    periods = [tuple(p.split("-")) for p in hours.split(",")] if hours else None
    return WorkingCalendar(tz=tz, days=days, **({"office_hours": periods} if periods else {}))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- worked examples (expected deadlines by hand) -----------------------------------


def test_one_working_day_from_new_years_eve_2026_ends_monday_4_january() -> None:
    """17:00 Thu 31 Dec 2026 + 7 h: 1 h that evening, Fri 1 Jan off, then 6 h on Monday."""
    assert zhuhai().add(at(2026, 12, 31, 17), 1, WD) == at(2027, 1, 4, 17)


def test_two_working_days_before_spring_festival_end_on_the_swapped_saturday(
    tmp_path: Path,
) -> None:
    """10:00 Thu 4 Feb + 14 h: 5.5 h Thursday, 7 h Fri 12 Feb, 1.5 h Sat 13 Feb (swapped)."""
    calendar = from_file(tmp_path, TEST_2027)
    assert calendar.add(at(2027, 2, 4, 10), 2, WD) == at(2027, 2, 13, 10)


def test_four_working_hours_from_1130_on_a_swapped_saturday_end_that_evening() -> None:
    """Sat 28 Feb 2026 is a swapped working day: 0.5 h before lunch, 3.5 h after."""
    assert zhuhai().add(at(2026, 2, 28, 11, 30), 4, WH) == at(2026, 2, 28, 18)


def test_four_working_hours_from_1130_on_the_test_swapped_saturday(tmp_path: Path) -> None:
    """Sat 13 Feb 2027 of the test schedule counts the same way: 18:00 that day."""
    assert from_file(tmp_path, TEST_2027).add(at(2027, 2, 13, 11, 30), 4, WH) == at(2027, 2, 13, 18)


def test_city_file_day_off_wins_over_the_published_schedule(tmp_path: Path) -> None:
    """A city-specific day off in a published year moves a deadline by a day."""
    text = "source: chinesecalendar\nyears:\n  2026:\n    days_off: [2026-03-02]\n"
    calendar = from_file(tmp_path, text)
    # Fri 27 Feb 17:00 + 4 h: 1 h Friday, Sat 28 Feb (swapped) 08:30-11:30.
    assert calendar.add(at(2026, 2, 27, 17), 4, WH) == at(2026, 2, 28, 11, 30)
    assert not calendar.is_working_day(date(2026, 3, 2))


# --- coverage -----------------------------------------------------------------------


def test_shipped_zhuhai_covers_2026_and_reports_2027() -> None:
    """2027 has statutory holidays but no published schedule: covered until 31 Dec 2026."""
    days = zhuhai().days
    assert days.coverage(2026) is Coverage.PUBLISHED
    assert days.coverage(2027) is Coverage.STATUTORY_ONLY
    assert days.covered_until(date(2026, 12, 5)) == date(2026, 12, 31)
    [problem] = days.problems(date(2026, 12, 5))
    assert problem.startswith("2027: no published schedule")


def test_problems_start_sixty_days_before_coverage_ends() -> None:
    """On 1 Nov 2026 2027 is within 60 days; on 1 Oct it is not yet."""
    days = zhuhai().days
    assert days.problems(date(2026, 10, 1)) == []
    assert len(days.problems(date(2026, 11, 2))) == 1


def test_complete_file_year_is_covered(tmp_path: Path) -> None:
    """Once the notice is copied in and marked complete, 2027 is covered."""
    days = from_file(tmp_path, TEST_2027).days
    assert days.covered(2027) and days.covered_until(date(2026, 12, 5)) == date(2027, 12, 31)


def test_uncovered_year_counts_its_statutory_holidays() -> None:
    """2099 is in nobody's schedule: 1 January (a Thursday) is still a day off by law."""
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2099, 1, 1))
    assert calendar.days.problems(date(2099, 1, 1))


def test_plain_office_hours_cover_every_year_and_keep_no_holiday(tmp_path: Path) -> None:
    """source none: Mon-Fri, nothing reported, New Year's Day worked."""
    days = from_file(tmp_path, "source: none\n").days
    assert days.is_working_day(date(2027, 1, 1)) and days.covered_until(date(2026, 1, 1)) is None


# --- cities outside China (issue 15) ------------------------------------------------


def new_york() -> WorkingCalendar:
    days, hours = load_days(DATA / "new-york")
    assert hours == "09:00-17:00"
    return WorkingCalendar(tz="America/New_York", office_hours=[("09:00", "17:00")], days=days)


def los_angeles() -> Days:
    return load_days(DATA / "los-angeles")[0]


def test_new_york_keeps_us_and_state_holidays() -> None:
    """Thanksgiving, Lincoln's Birthday and Election Day are off; Christmas Eve is not."""
    days = new_york().days
    assert days.source is Source.HOLIDAYS and days.covered_until(date(2026, 12, 1)) is None
    for holiday in (date(2026, 11, 26), date(2027, 2, 12), date(2026, 11, 3)):
        assert not days.is_working_day(holiday), holiday
    assert days.is_working_day(date(2026, 12, 24))


def test_new_york_moves_a_saturday_holiday_to_friday() -> None:
    """Christmas 2027 is a Saturday: Friday 24 December is the day off."""
    assert not new_york().days.is_working_day(date(2027, 12, 24))


def test_new_york_works_on_commemorations() -> None:
    """Susan B. Anthony Day (15 Feb 2028, a Tuesday) is a working day for the city."""
    assert new_york().days.is_working_day(date(2028, 2, 15))


def test_new_york_deadline_skips_thanksgiving() -> None:
    """8 working hours from 16:00 Wed 25 Nov 2026: 1 h, Thu off, 7 h Fri to 16:00."""
    start = datetime(2026, 11, 25, 16, tzinfo=NEW_YORK)
    assert new_york().add(start, 8, WH) == datetime(2026, 11, 27, 16, tzinfo=NEW_YORK)


def test_los_angeles_keeps_california_and_city_days() -> None:
    """Cesar Chavez Day, the day after Thanksgiving and Indigenous Peoples' Day are off;
    Diwali (a state day the city's offices work on) is not."""
    days = los_angeles()
    for holiday in (date(2027, 3, 31), date(2026, 11, 27), date(2026, 10, 12)):
        assert not days.is_working_day(holiday), holiday
    assert days.is_working_day(date(2026, 11, 9))  # Diwali 2026 is Sunday 8 Nov; Monday works
    assert days.is_working_day(date(2027, 10, 29))  # Diwali 2027, a Friday


# --- the file is checked with lines --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("source: outlook\n", "source must be one of"),
        ("years:\n  2027:\n    days_of: [2027-01-01]\n", "unknown field 'days_of'"),
        ("years:\n  2027:\n    days_off: [2026-12-31]\n", "is not in 2027"),
        ("years:\n  2027:\n    days_off: [2027-02-30]\n", "is not a date"),
        ("years:\n  27:\n    days_off: []\n", "four digits"),
        (
            "years:\n  2027:\n    days_off: [2027-02-13]\n    working_days: [2027-02-13]\n",
            "both a day off and a working day",
        ),
        ("source: holidays\ncountry: XX\n", "does not know this country"),
    ],
)
def test_bad_calendar_file_is_refused_with_its_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    """Each mistake names calendar.yaml, a line and the problem."""
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as error:
        load_days(tmp_path)
    assert error.value.file == "calendar.yaml" and error.value.line


def test_no_calendar_file_means_chinas_published_schedules(tmp_path: Path) -> None:
    """A city folder without calendar.yaml keeps the behaviour from before the files."""
    days, hours = load_days(tmp_path)
    assert days.source is Source.CHINESECALENDAR and hours is None


# --- properties over arbitrary calendars ---------------------------------------------

YEAR = range(date(2027, 1, 1).toordinal(), date(2027, 12, 31).toordinal() + 1)
some_days = st.frozensets(st.sampled_from(YEAR).map(date.fromordinal), max_size=60)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """A calendar with arbitrary days off and swapped days in 2027 and office hours."""
    off, on = draw(some_days), draw(some_days)
    entry = YearEntry(2027, off - on, on, complete=True)
    source = draw(st.sampled_from([Source.NONE, Source.CHINESECALENDAR]))
    bounds = sorted(draw(st.sets(st.integers(0, 48), min_size=2, max_size=6)))
    bounds = bounds[: len(bounds) // 2 * 2]
    hhmm = [f"{b // 2:02d}:{b % 2 * 30:02d}" for b in bounds]
    hours = list(zip(hhmm[::2], hhmm[1::2], strict=True))
    return WorkingCalendar(office_hours=hours, days=Days(source=source, years={2027: entry}))


starts = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2027, 12, 20), timezones=st.just(SHANGHAI)
)
amounts = st.floats(min_value=0, max_value=80, allow_nan=False)
units = st.sampled_from([WH, WD])


@settings(max_examples=150, deadline=None)
@given(calendars(), starts, amounts, amounts, units)
def test_adding_working_time_is_monotonic(
    calendar: WorkingCalendar, start: datetime, a: float, b: float, unit: LimitUnit
) -> None:
    """More working time never ends earlier, on any calendar."""
    low, high = sorted((a, b))
    assert calendar.add(start, low, unit) <= calendar.add(start, high, unit)


@settings(max_examples=150, deadline=None)
@given(calendars(), starts, amounts.filter(lambda x: x > 1e-3), units)
def test_working_time_never_ends_outside_office_hours(
    calendar: WorkingCalendar, start: datetime, x: float, unit: LimitUnit
) -> None:
    """The end lies in office hours of a working day, or exactly at a period's end."""
    end = calendar.add(start, x, unit)
    just_before = end - timedelta(microseconds=1)
    assert calendar.is_working_time(end) or calendar.is_working_time(just_before)


@settings(max_examples=150, deadline=None)
@given(calendars(), starts, amounts, units)
def test_subtracting_the_time_back_returns_to_the_start(
    calendar: WorkingCalendar, start: datetime, x: float, unit: LimitUnit
) -> None:
    """The working time from the start to add(start, x) is x again."""
    end = calendar.add(start, x, unit)
    assert calendar.elapsed(start, end, unit) == pytest.approx(x, abs=1e-6)
    assert calendar.elapsed(start, end, NH) >= 0


def test_new_york_rules_take_office_hours_and_holidays_from_the_city_file() -> None:
    """Through city_rules: New York counts 09:00-17:00 and skips Thanksgiving."""
    from dashboard.domain.city import city_rules
    from dashboard.settings import Settings

    rules = city_rules(Settings(city_dir=str(DATA / "new-york")))
    assert rules.calendar.office_hours == (("09:00", "17:00"),)
    start = datetime(2026, 11, 25, 16, tzinfo=NEW_YORK)
    assert rules.calendar.add(start, 1, WD) == datetime(2026, 11, 27, 16, tzinfo=NEW_YORK)


def test_the_office_hours_setting_wins_over_the_city_file() -> None:
    """--office-hours given: the file's hours are not used."""
    from dashboard.domain.city import city_rules
    from dashboard.settings import Settings

    settings = Settings(city_dir=str(DATA / "los-angeles"), office_hours="10:00-14:00")
    assert city_rules(settings).calendar.office_hours == (("10:00", "14:00"),)
