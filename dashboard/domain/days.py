"""Which days are working days: the city's calendar file over the holiday libraries.

Layers, first match wins (issue 13):
1. the city's `calendar.yaml`: per year, days off and working days (调休上班日, or
   city-specific days) that override everything below;
2. the published schedule: `chinesecalendar` knows each year the State Council has
   published (holidays and swapped working days) and says so for the others;
3. the days off by law, computed by the `holidays` package for any year: for China
   the statutory holidays (法定节假日, fixed dates and lunar ones), for the US the
   federal and state public holidays with their observed days;
4. Monday to Friday.

A year is *covered* when its whole schedule is known: a published year, a year the
file marks `complete`, any year of a rule-based source (US holidays follow the law's
rules, plain office hours need nothing). An uncovered year still counts its
statutory holidays and weekends, but it is reported (`problems`), never silently
taken as right: the bridge days and swapped working days are unknowable until
published, and deadlines made meanwhile are recomputed when the file brings them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar
import holidays as holiday_rules

ONE_DAY = timedelta(days=1)
# How far ahead coverage is searched: beyond this a rule-based source is "open-ended".
HORIZON_YEARS = 10
# The desk warns and `calendar check` fails from this many days before coverage ends.
WARN_DAYS = 60


class Source(StrEnum):
    """Where the days of a year come from when the city file does not say."""

    CHINESECALENDAR = "chinesecalendar"  # published schedules; statutory days otherwise
    HOLIDAYS = "holidays"  # a country's public holidays by rule (python-holidays)
    NONE = "none"  # plain office hours: Monday to Friday, no holidays


class Coverage(StrEnum):
    """How much of a year's schedule is known."""

    PUBLISHED = "published"  # the official schedule (library or complete file entry)
    RULES = "rules"  # days fixed by rules that are known years ahead
    STATUTORY_ONLY = "statutory_only"  # holidays by law known, swaps not yet published


@dataclass(frozen=True)
class YearEntry:
    """One year of the city's calendar file."""

    year: int
    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    complete: bool = False  # the whole official schedule is in the file
    notice: str = ""  # where it was copied from (URL or document number)


@dataclass(frozen=True, eq=False)
class Days:
    """The working days of one city: its file's years over a library source."""

    source: Source = Source.CHINESECALENDAR
    country: str = "CN"
    subdiv: str | None = None
    years: dict[int, YearEntry] = field(default_factory=dict)
    file: str | None = None  # the calendar file's name, for messages
    ignored: frozenset[str] = frozenset()  # the package's holidays the city works on
    added: frozenset[str] = frozenset()  # the country's holidays the city keeps besides

    _known: dict[date, bool] = field(default_factory=dict, repr=False)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day, by the first layer that knows it."""
        # Remembered: a 200-working-day walk asks for hundreds of days, and the
        # libraries re-scan their tables on each call (~25 us).
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = _working(self, day)
        return known

    def coverage(self, year: int) -> Coverage:
        """How much of `year` is known."""
        entry = self.years.get(year)
        if self.source is not Source.CHINESECALENDAR:
            return Coverage.RULES
        if (entry is not None and entry.complete) or _published(year):
            return Coverage.PUBLISHED
        return Coverage.STATUTORY_ONLY

    def covered(self, year: int) -> bool:
        """Whether the whole schedule of `year` is known."""
        return self.coverage(year) is not Coverage.STATUTORY_ONLY

    def covered_until(self, today: date) -> date | None:
        """The last day of the run of covered years from today's (None: open-ended)."""
        year = today.year
        while self.covered(year):
            if year > today.year + HORIZON_YEARS:
                return None
            year += 1
        return date(year - 1, 12, 31)

    def years_missing(self, today: date, warn_days: int = WARN_DAYS) -> list[int]:
        """The uncovered years among those from `today` to `warn_days` ahead."""
        years = range(today.year, (today + timedelta(days=warn_days)).year + 1)
        return [year for year in years if not self.covered(year)]

    def problems(self, today: date, warn_days: int = WARN_DAYS) -> list[str]:
        """What is missing for the days from `today` to `warn_days` ahead, in words."""
        return [self.missing(year) for year in self.years_missing(today, warn_days)]

    def missing(self, year: int) -> str:
        """The one-line report of an uncovered year."""
        where = self.file or "the city's calendar file"
        return (
            f"{year}: no published schedule in {self.source.value} nor marked complete in "
            f"{where}; counting weekends and statutory holidays only, swapped working "
            f"days unknown"
        )

    def statutory(self, year: int) -> frozenset[date]:
        """The days off by law in `year`, less those the city works on."""
        named = statutory_days(self.country, self.subdiv, year)
        kept = {day for day, names in named.items() if not names <= self.ignored}
        if self.added:
            national = statutory_days(self.country, None, year)
            kept |= {day for day, names in national.items() if names & self.added}
        return frozenset(kept)

    def working_days(self, year: int) -> Iterator[date]:
        """The working days of a year, in order."""
        day = date(year, 1, 1)
        while day.year == year:
            if self.is_working_day(day):
                yield day
            day += ONE_DAY

    def exceptions(self, first: date, last: date) -> dict[date, bool]:
        """Days in [first, last] whose status differs from Monday-Friday."""
        out, day = {}, first
        while day <= last:
            working = self.is_working_day(day)
            if working != (day.weekday() < 5):
                out[day] = working
            day += ONE_DAY
        return out

    def fingerprint(self) -> str:
        """A digest of the file's content and source: equal when nothing changed."""
        parts = [self.source.value, self.country, self.subdiv or ""]
        parts += [",".join(sorted(self.ignored)), ",".join(sorted(self.added))]
        for year in sorted(self.years):
            entry = self.years[year]
            parts.append(f"{year}:{entry.complete}:{sorted(entry.days_off)}")
            parts.append(f"{sorted(entry.working_days)}")
        return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _working(days: Days, day: date) -> bool:
    entry = days.years.get(day.year)
    if entry is not None:
        if day in entry.working_days:
            return True
        if day in entry.days_off:
            return False
    if days.source is Source.CHINESECALENDAR and _published(day.year):
        return bool(chinese_calendar.is_workday(day))
    if day.weekday() >= 5:
        return False
    if days.source is Source.NONE:
        return True
    return day not in days.statutory(day.year)


@functools.lru_cache(maxsize=256)
def _published(year: int) -> bool:
    """Whether chinesecalendar has the State Council's schedule of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def statutory_days(country: str, subdiv: str | None, year: int) -> dict[date, frozenset[str]]:
    """The days off by law in `year` (python-holidays), with their names.

    For China only the statutory days themselves: the package's "observed" days for
    unpublished years are its own guess at the State Council's bridges, not law.
    The US federal rule (5 U.S.C. 6103) moves a Saturday holiday to Friday and a
    Sunday one to Monday: there the observed days are the law. A name "X (observed)"
    counts as X for `except_holidays`.
    """
    table = holiday_rules.country_holidays(
        country, subdiv=subdiv, years=year, observed=country != "CN"
    )
    return {
        day: frozenset(name.removesuffix(" (observed)") for name in table.get_list(day))
        for day in sorted(table)
    }
