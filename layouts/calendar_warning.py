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
        "工作日历只覆盖到 {until}：缺少 {years} 年的放假安排，期间的时限只计周末与法定节假日，"
        "调休上班日未知。请按国务院办公厅的放假通知补充城市目录中的 calendar.yaml"
        "（放假日与调休上班日，并标记 complete: true），再执行 commandhall calendar reload。"
    ),
    "en": (
        "The working calendar covers only until {until}: the holiday schedule of {years} "
        "is missing, so deadlines there count weekends and statutory holidays only and no "
        "swapped working days. Copy the official notice (days off and swapped working days, "
        "then complete: true) into the city's calendar.yaml and run commandhall calendar "
        "reload."
    ),
}


def coverage_warning(app: App, role: str | None, today: date | None = None) -> Any:
    """The warning component, or None when not due or not for this role."""
    if not any(allowed(role, permission) for permission in WARNED):
        return None
    status = coverage(app, today)
    if not status["warning"]:
        return None
    years = "、".join(map(str, status["missing_years"])) or "?"
    if app.settings.language == "en":
        years = ", ".join(map(str, status["missing_years"])) or "?"
    text = WORDS.get(app.settings.language, WORDS["zh"])
    return html.Div(
        text.format(until=status["covered_until"], years=years),
        className="panel calendar-warning",
        role="alert",
        # Amber as the wall's yellow light: the calendar is about to be wrong.
        style={"borderColor": "#d4a017", "borderWidth": "2px"},
        **data(covered_until=status["covered_until"]),
    )
