"""How far the city's working calendar reaches, for /healthz and the desk.

Read from the city's calendar file as it is now (cached until the file changes), so
that a `commandhall calendar reload` clears the warning without a restart.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.calendarfile import FILENAME, load_days
from dashboard.domain.city import city_dir
from dashboard.domain.configfile import ConfigError
from dashboard.domain.days import WARN_DAYS, Days
from dashboard.web.context import App

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int] | None, Days]] = {}


def current_days(app: App) -> Days:
    """The city's days as its file says now; the loaded ones if the file is broken."""
    folder = city_dir(app.settings)
    path = folder / FILENAME
    try:
        stat = path.stat()
        stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        days = load_days(folder)[0]
    except ConfigError:
        days = app.store.rules.calendar.days
    with _lock:
        _cache[path] = (stamp, days)
    return days


def city_today(app: App) -> date:
    """Today in the city's time zone."""
    return datetime.now(ZoneInfo(app.timezone)).date()


def coverage(app: App, today: date | None = None) -> dict[str, Any]:
    """The last day covered, whether the desk should warn, and what is missing."""
    today = today or city_today(app)
    days = current_days(app)
    until = days.covered_until(today)
    warn = until is not None and today >= until - timedelta(days=WARN_DAYS)
    return {
        "covered_until": until.isoformat() if until else None,
        "warning": warn,
        "missing": days.problems(today),
        "missing_years": days.years_missing(today),
    }
