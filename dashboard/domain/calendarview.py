"""The working calendar in words, for `commandhall calendar show` and `check`.

`show` lists a year as a person compares it with the official notice: per month the
working days and hours, each weekday off and each weekend day worked, with why.
"""

from __future__ import annotations

from datetime import date

from dashboard.domain.days import WARN_DAYS, Coverage, Days, statutory_days
from dashboard.domain.workcal import WorkingCalendar

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COVERAGE_WORDS = {
    Coverage.PUBLISHED: "the published schedule",
    Coverage.RULES: "public holidays by rule",
    Coverage.STATUTORY_ONLY: "NOT PUBLISHED: statutory holidays only, swapped days unknown",
}


def show(calendar: WorkingCalendar, year: int) -> list[str]:
    """The working days and hours of `year`, month by month."""
    days, hours = calendar.days, calendar.hours_per_working_day
    periods = ", ".join(f"{start}-{end}" for start, end in calendar.office_hours)
    lines = [
        f"{year}: {COVERAGE_WORDS[days.coverage(year)]} ({_source(days)})",
        f"office hours {periods} ({calendar.tz.key}): {hours:g} h a working day",
    ]
    worked = list(days.working_days(year))
    exceptions = days.exceptions(date(year, 1, 1), date(year, 12, 31))
    for month in range(1, 13):
        count = sum(1 for day in worked if day.month == month)
        lines.append(f"{year}-{month:02d}: {count} working days ({count * hours:g} h)")
        for day, working in sorted(exceptions.items()):
            if day.month == month:
                what = "worked" if working else "off   "
                lines.append(f"  {what} {day} {WEEKDAYS[day.weekday()]}  {_why(days, day)}")
    lines.append(f"{year}: {len(worked)} working days, {len(worked) * hours:g} working hours")
    return lines


def _source(days: Days) -> str:
    where = f"{days.file} over " if days.file else ""
    region = "-".join(part for part in (days.country, days.subdiv) if part)
    return f"{where}{days.source.value}" + (f" {region}" if region else "")


def _why(days: Days, day: date) -> str:
    """The holiday's names by law (if any) and which layer decided the day."""
    entry = days.years.get(day.year)
    in_file = entry is not None and (day in entry.days_off or day in entry.working_days)
    names = statutory_days(days.country, days.subdiv, day.year).get(day) if days.country else None
    layer = f"({days.file or 'city file'})" if in_file else f"({days.source.value})"
    return f"{'; '.join(sorted(names))} {layer}" if names else layer


def check(days: Days, today: date) -> tuple[bool, list[str]]:
    """Whether the calendar covers today and the next WARN_DAYS days, and what's missing."""
    until = days.covered_until(today)
    lines = [f"calendar ({_source(days)}) covered until {until or 'every year (by rule)'}"]
    problems = days.problems(today)
    lines += [f"missing {problem}" for problem in problems]
    if not problems:
        lines.append(f"ok: the next {WARN_DAYS} days are covered")
    return not problems, lines
