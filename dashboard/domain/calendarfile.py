"""A city's `calendar.yaml`: which days are worked, read with line numbers.

The file sits in the city folder next to the catalogue. Its keys:

- `source`: `chinesecalendar` (China: published schedules, statutory holidays for
  other years), `holidays` (a country's public holidays by rule, with `country` and
  optional `subdiv`, e.g. US and NY) or `none` (plain office hours, Monday-Friday);
- `office_hours`: like the setting, `08:30-12:00,14:30-18:00`; the setting wins;
- `except_holidays`: names of the package's holidays the city works on anyway;
- `add_holidays`: names of the country's (federal) holidays the city keeps besides
  its state's, e.g. Columbus Day (Indigenous Peoples' Day) in Los Angeles;
- `years`: per year, `days_off` and `working_days` (dates or `first..last`
  ranges), `complete` (the whole official schedule is in) and `notice`.

A missing file means China's published schedules, as before calendar files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from dashboard.domain.configfile import ConfigError, Node, Record, read_yaml, record
from dashboard.domain.days import Days, Source, YearEntry

FILENAME = "calendar.yaml"
TOP_FIELDS = {
    "source",
    "country",
    "subdiv",
    "office_hours",
    "except_holidays",
    "add_holidays",
    "years",
}
YEAR_FIELDS = {"days_off", "working_days", "complete", "notice"}


def load_days(city_dir: Path) -> tuple[Days, str | None]:
    """The city's working days and the office hours its file names (None if none)."""
    path = city_dir / FILENAME
    if not path.exists():
        return Days(), None
    top = record(path.name, read_yaml(path) or {}, 1)
    top.subject = "the calendar"
    top.only(TOP_FIELDS)
    source = _source(top)
    default_country = "CN" if source is Source.CHINESECALENDAR else ""
    country = top.text("country", default_country or None) if source is not Source.NONE else ""
    days = Days(
        source=source,
        country=country.upper(),
        subdiv=top.text("subdiv") if top.fields.get("subdiv") else None,
        years=_years(top),
        file=path.name,
        ignored=frozenset(_names(top, "except_holidays")),
        added=frozenset(_names(top, "add_holidays")),
    )
    _check_country(top, days)
    office = top.fields.get("office_hours")
    return days, None if office is None else top.text("office_hours")


def _source(top: Record) -> Source:
    name = top.text("source", Source.CHINESECALENDAR.value)
    try:
        return Source(name)
    except ValueError:
        top.fail(f"source must be one of {', '.join(s.value for s in Source)}", "source")


def _check_country(top: Record, days: Days) -> None:
    if days.source is Source.NONE:
        return
    try:
        days.statutory(date.today().year)
    except NotImplementedError as error:
        top.fail(f"the holidays package does not know this country: {error}", "country")


def _names(top: Record, key: str) -> list[str]:
    value = top.fields.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        top.fail(f"{key} must be a list of holiday names", key)
    return [v.strip() for v in value]


def _years(top: Record) -> dict[int, YearEntry]:
    value = top.fields.get("years") or {}
    line = top.lines.get("years", top.line)
    if not isinstance(value, dict):
        raise ConfigError(top.file, line, "years must map each year to its days")
    out = {}
    for key, body in value.items():
        where = getattr(value, "lines", {}).get(key, line)
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            raise ConfigError(top.file, where, f"a year must be four digits, not {key!r}")
        entry = record(top.file, body or _empty(where), where)
        entry.subject = f"year {key}"
        out[int(key)] = _year(entry, int(key))
    return out


def _empty(line: int) -> Node:
    node = Node()
    node.line, node.lines = line, {}
    return node


def _year(entry: Record, year: int) -> YearEntry:
    entry.only(YEAR_FIELDS)
    off, on = _dates(entry, "days_off", year), _dates(entry, "working_days", year)
    both = off & on
    if both:
        entry.fail(f"{min(both)} is both a day off and a working day", "working_days")
    complete = entry.fields.get("complete", False)
    if not isinstance(complete, bool):
        entry.fail("complete must be true or false", "complete")
    notice = entry.fields.get("notice") or ""
    return YearEntry(year, off, on, complete, str(notice))


def _dates(entry: Record, key: str, year: int) -> frozenset[date]:
    value = entry.fields.get(key) or []
    if not isinstance(value, list):
        entry.fail(f"{key} must be a list of dates", key)
    days: set[date] = set()
    for item in value:
        for day in _span(entry, key, item):
            if day.year != year:
                entry.fail(f"{day} in {key} is not in {year}", key)
            days.add(day)
    return frozenset(days)


def _span(entry: Record, key: str, item: Any) -> list[date]:
    """A date, or the days of a `first..last` range."""
    if isinstance(item, date):
        return [item]
    first, dots, last = str(item).partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if dots else start
    except ValueError:
        entry.fail(f"{key}: {item!r} is not a date (YYYY-MM-DD) or range (A..B)", key)
    if end < start:
        entry.fail(f"{key}: range {item!r} ends before it starts", key)
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
