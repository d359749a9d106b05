"""The desk's warning that the working calendar is about to run out (issue 13).

From 60 days before the last day the calendar covers, admins (who put the State
Council's schedule into calendar.yaml) and commanders (who answer for the lights it
makes) see what is missing. Kept in its own module: the desk hooks it in one line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import html

from dashboard.domain.access import Permission, allowed
from dashboard.web.calendarstatus import coverage
from dashboard.web.context import App
from layouts.components.views import data

# Roles that see it: whoever may manage accounts (admin) or switch emergencies.
WARNED = (Permission.MANAGE_ACCOUNTS, Permission.SWITCH_EMERGENCY)
WORDS = {
    "zh": (
        "工作日历只覆盖到 {until}。{missing}请按国务院办公厅的放假通知补充城市目录中的 "
        "calendar.yaml（放假日与调休上班日），再执行 commandhall calendar reload。"
    ),
    "en": (
        "The working calendar covers only until {until}. {missing}Copy the official "
        "holiday notice (days off and swapped working days) into the city's calendar.yaml, "
        "then run commandhall calendar reload."
    ),
}


def coverage_warning(app: App, role: str | None, today: date | None = None) -> Any:
    """The warning component, or None when not due or not for this role."""
    if not any(allowed(role, permission) for permission in WARNED):
        return None
    status = coverage(app, today)
    if not status["warning"]:
        return None
    missing = "".join(f"{line} " for line in status["missing"])
    text = WORDS.get(app.settings.language, WORDS["zh"])
    return html.Div(
        text.format(until=status["covered_until"], missing=missing),
        className="panel calendar-warning",
        role="alert",
        **data(covered_until=status["covered_until"]),
    )
