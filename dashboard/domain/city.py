"""The configured city: its catalogue and working calendar, as workflow rules."""

from __future__ import annotations

from pathlib import Path

from dashboard.domain.calendarfile import FILENAME, load_days
from dashboard.domain.catalogue import DEFAULT_DIR, load_catalogue
from dashboard.domain.configfile import ConfigError
from dashboard.domain.emergency import load_policy
from dashboard.domain.lifecycle import Rules
from dashboard.domain.workcal import DEFAULT_OFFICE_HOURS, WorkingCalendar
from dashboard.settings import Settings, office_periods


def city_dir(settings: Settings) -> Path:
    """The city folder the settings name (the built-in Zhuhai by default)."""
    return Path(settings.city_dir) if settings.city_dir else DEFAULT_DIR


def city_calendar(settings: Settings, timezone: str) -> WorkingCalendar:
    """The city's working calendar: its calendar file, office hours from the setting
    if given, else from the file, else the default (refused if invalid)."""
    days, file_hours = load_days(city_dir(settings))
    where, text = "--office-hours", settings.office_hours
    if not text and file_hours:
        where, text = FILENAME, file_hours
    try:
        periods = office_periods(text) if text else list(DEFAULT_OFFICE_HOURS)
        return WorkingCalendar(tz=timezone, office_hours=periods, days=days)
    except ValueError as error:
        raise ConfigError(where, None, str(error)) from None


def city_rules(settings: Settings) -> Rules:
    """The workflow rules of the configured city (refused at start-up if invalid)."""
    catalogue = load_catalogue(settings.city_dir or None)
    return Rules(
        catalogue=catalogue,
        calendar=city_calendar(settings, catalogue.timezone),
        warn_ratio=settings.warn_ratio,
        policy=load_policy(city_dir(settings)),
    )
