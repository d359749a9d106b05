"""The configured city: its catalogue and working calendar, as workflow rules."""

from __future__ import annotations

from dashboard.catalogue import DEFAULT_DIR, load_catalogue
from dashboard.emergency import load_policy
from dashboard.lifecycle import Rules
from dashboard.settings import Settings
from dashboard.workcal import WorkingCalendar


def city_rules(settings: Settings) -> Rules:
    """The workflow rules of the configured city (refused at start-up if invalid)."""
    catalogue = load_catalogue(settings.city_dir or None)
    return Rules(
        catalogue=catalogue,
        calendar=WorkingCalendar(tz=catalogue.timezone),
        policy=load_policy(settings.city_dir or DEFAULT_DIR),
    )
