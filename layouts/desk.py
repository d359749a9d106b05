"""The duty commander's desk (/desk/): the case work, the emergency switch, past periods.

The case work (table, filters, detail, actions, alerts) is layouts/desk_cases.py.
Role checks are on the server (dashboard.web.switch, dashboard.web.actions), not in
what the page shows. The switch form starts at the mode in force: raising only goes
up, lowering is its own confirmed action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, ctx, dcc, html
from flask import has_request_context

from dashboard.store import afteraction, emergency
from dashboard.web import auth
from dashboard.web.context import App
from dashboard.web.switch import HAZARDS, SwitchRefused, switch
from layouts.calendar_warning import coverage_warning
from layouts.components import inputs
from layouts.components.views import data, view_app, view_header
from layouts.desk_cases import callbacks as case_callbacks
from layouts.desk_cases import case_work
from layouts.i18n import label, labels
from streams.names import SignalLevel

# Each button asks for confirmation; the confirmation throws the switch.
CONFIRMED = ("raise", "change", "note", "clear")
ACTION_OF = {"raise": "raise", "change": "change_level", "note": "note", "clear": "clear"}
PERIOD_COLUMNS = ("col_hazard", "col_level", "col_cases", "col_start", "col_end")
PERIODS_REFRESH_MS = 10_000


def register(app: App) -> Dash:
    """Mount the desk's Dash app on the server."""
    desk = view_app(app, "desk", labels(app.settings.language)["desk_title"])
    desk.layout = lambda: layout(app)
    _callbacks(app, desk)
    case_callbacks(app, desk)
    return desk


def layout(app: App) -> html.Div:
    """The desk page."""
    text = labels(app.settings.language)
    username = auth.username()
    with app.store.sessions() as db:
        current = emergency.state(db)
    return html.Div(
        [
            view_header(app, "desk_title", username),
            case_work(app),
            coverage_warning(app, auth.as_user()["role"] if has_request_context() else None),
            switch_panel(text, current),
            periods_panel(app, text),
        ],
        className="desk",
        lang="en" if app.settings.language == "en" else "zh",
    )


def options(text: dict[str, str], prefix: str, values: list[str]) -> list[dict[str, str]]:
    """Dropdown options named in the view's language, valued by their codes."""
    return [{"label": label(text, prefix, value), "value": value} for value in values]


def hazards(current: dict[str, Any] | None) -> list[str]:
    """The hazards a desk may raise, and the one in force if a producer named another."""
    found = list(HAZARDS)
    if current is not None and current["hazard"] not in found:
        found.append(current["hazard"])  # shown as the producer wrote it
    return found


def switch_panel(text: dict[str, str], current: dict[str, Any] | None) -> html.Div:
    """The emergency switch: hazard, level, a required reason, and confirmation."""
    hazard = current["hazard"] if current else HAZARDS[0]
    level = current["level"] if current else SignalLevel.YELLOW.value
    buttons = [
        html.Button(text["raise"], id="raise-button", className="raise-button"),
        html.Button(text["change_level"], id="change-button", className="change-button"),
        html.Button(text["update_note"], id="note-button", className="note-button"),
        html.Button(text["clear"], id="clear-button", className="clear-button"),
    ]
    return html.Div(
        [
            html.H2(text["emergency"]),
            html.Div(
                [
                    dcc.Dropdown(
                        options(text, "hazard", hazards(current)),
                        hazard,
                        id="switch-hazard",
                        clearable=False,
                    ),
                    dcc.Dropdown(
                        options(text, "level", [s.value for s in SignalLevel]),
                        level,
                        id="switch-level",
                        clearable=False,
                    ),
                    dcc.Textarea(id="switch-reason", placeholder=text["reason"]),
                ],
                className="switch-form",
            ),
            html.Div(buttons, className="switch-buttons"),
            *[
                dcc.ConfirmDialog(id=f"{name}-confirm", message=text[f"confirm_{name}"])
                for name in CONFIRMED
            ],
            html.Div(id="switch-result", className="switch-result"),
        ],
        className="panel",
        **data(level_in_force=level if current else ""),
    )


def periods_panel(app: App, text: dict[str, str]) -> html.Div:
    """Past emergency periods with their after-action reports, kept up to date."""
    return html.Div(
        [
            html.H2(text["periods"]),
            html.Div(id="periods-list", children=periods_table(app, text)),
            dcc.Interval(id="periods-refresh", interval=PERIODS_REFRESH_MS),
        ],
        className="panel",
    )


def periods_table(app: App, text: dict[str, str]) -> Any:
    """A table of emergency periods, times in the city's zone, with their reports."""
    with app.store.sessions() as db:
        rows = afteraction.periods(db)
    zone = ZoneInfo(app.timezone)
    head = html.Tr([html.Th(text[key]) for key in PERIOD_COLUMNS] + [html.Th(""), html.Th("")])
    return html.Table(
        [head]
        + [
            html.Tr(
                [
                    html.Td(label(text, "hazard", row["hazard"])),
                    html.Td(label(text, "level", row["highest_level"])),
                    html.Td(str(row["cases"])),
                    html.Td(local_minute(row["start"], zone)),
                    html.Td(local_minute(row.get("end"), zone) or text["in_force"]),
                    html.Td(html.A(text["report"], href=f"/api/emergencies/{row['id']}")),
                    html.Td(html.A(text["csv"], href=f"/api/emergencies/{row['id']}.csv")),
                ],
                **data(period=row["id"]),
            )
            for row in rows
        ],
        className="periods",
    )


def local_minute(moment: Any, zone: ZoneInfo) -> str:
    """An ISO time (or None) as the city's wall-clock minute, 2026-09-14 08:30."""
    if not moment:
        return ""
    return f"{datetime.fromisoformat(str(moment)).astimezone(zone):%Y-%m-%d %H:%M}"


def _callbacks(app: App, desk: Dash) -> None:
    for name in CONFIRMED:
        desk.callback(
            Output(f"{name}-confirm", "displayed"),
            Input(f"{name}-button", "n_clicks"),
            prevent_initial_call=True,
        )(_ask)

    @desk.callback(
        Output("switch-result", "children"),
        [Input(f"{name}-confirm", "submit_n_clicks") for name in CONFIRMED],
        State("switch-hazard", "value"),
        State("switch-level", "value"),
        State("switch-reason", "value"),
        prevent_initial_call=True,
    )
    def throw(*values: Any) -> Any:
        hazard, level, reason = (inputs.text(value) for value in values[-3:])
        action = ACTION_OF.get(str(ctx.triggered_id).removesuffix("-confirm"))
        if action is None:
            return ""
        user = auth.as_user()
        text = labels(app.settings.language)
        try:
            switch(app, user, action, reason, hazard or None, level or None)
        except SwitchRefused as error:
            return text.get(error.key, str(error))
        return text["published"]

    @desk.callback(Output("periods-list", "children"), Input("periods-refresh", "n_intervals"))
    def refresh_periods(_: Any) -> Any:
        return periods_table(app, labels(app.settings.language))


def _ask(_: Any) -> bool:
    return True
