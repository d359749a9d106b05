"""The configured city: its catalogue and working calendar, as workflow rules."""

from __future__ import annotations

from dashboard.domain.catalogue import DEFAULT_DIR, load_catalogue
from dashboard.domain.configfile import ConfigError
from dashboard.domain.emergency import load_policy
from dashboard.domain.lifecycle import Rules
from dashboard.domain.workcal import WorkingCalendar
from dashboard.settings import Settings


def city_rules(settings: Settings) -> Rules:
    """The workflow rules of the configured city (refused at start-up if invalid)."""
    catalogue = load_catalogue(settings.city_dir or None)
    try:
        calendar = WorkingCalendar(tz=catalogue.timezone, office_hours=settings.office_periods)
    except ValueError as error:
        raise ConfigError("--office-hours", None, str(error)) from None
    return Rules(
        catalogue=catalogue,
        calendar=calendar,
        warn_ratio=settings.warn_ratio,
        policy=load_policy(settings.city_dir or DEFAULT_DIR),
    )
