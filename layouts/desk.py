"""The duty commander's desk (/desk/): the guarded emergency switch, past periods.

Only the switch and the after-action reports live here so far; the full desk
(filters, case drill-down, urging) grows on this page. The role check is on the
server (dashboard.switch), not in what the page shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, dcc, html
from flask import has_request_context, session

from dashboard import afteraction
from dashboard.app import App
from dashboard.switch import HAZARDS, SwitchRefused, switch
from layouts.components.views import view_app, view_header
from layouts.i18n import labels
from streams.names import SignalLevel


def register(app: App) -> Dash:
    """Mount the desk's Dash app on the server."""
    desk = view_app(app, "desk", labels(app.settings.language)["desk_title"])
    desk.layout = lambda: layout(app)
    _callbacks(app, desk)
    return desk


def layout(app: App) -> html.Div:
    """The desk page."""
    text = labels(app.settings.language)
    username = session.get("username") if has_request_context() else None
    return html.Div(
        [view_header(app, "desk_title", username), switch_panel(text), periods_panel(app, text)],
        className="desk",
        lang="en" if app.settings.language == "en" else "zh",
    )


def switch_panel(text: dict[str, str]) -> html.Div:
    """The emergency switch: hazard, level, a required reason, and confirmation."""
    return html.Div(
        [
            html.H2(text["emergency"]),
            html.Div(
                [
                    dcc.Dropdown(list(HAZARDS), "typhoon", id="switch-hazard", clearable=False),
                    dcc.Dropdown(
                        [s.value for s in SignalLevel], "yellow", id="switch-level", clearable=False
                    ),
                    dcc.Textarea(id="switch-reason", placeholder=text["reason"]),
                ],
                className="switch-form",
            ),
            html.Div(
                [
                    html.Button(text["raise"], id="raise-button", className="raise-button"),
                    html.Button(text["clear"], id="clear-button", className="clear-button"),
                ],
                className="switch-buttons",
            ),
            dcc.ConfirmDialog(id="raise-confirm", message=text["confirm_raise"]),
            dcc.ConfirmDialog(id="clear-confirm", message=text["confirm_clear"]),
            html.Div(id="switch-result", className="switch-result"),
        ],
        className="panel",
    )


def periods_panel(app: App, text: dict[str, str]) -> html.Div:
    """Past emergency periods with their after-action reports."""
    return html.Div(
        [html.H2(text["periods"]), html.Div(id="periods-list", children=periods_table(app, text))],
        className="panel",
    )


def periods_table(app: App, text: dict[str, str]) -> Any:
    """A table of past emergency periods with links to their reports."""
    with app.store.sessions() as db:
        rows = afteraction.periods(db)
    return html.Table(
        [
            html.Tr(
                [
                    html.Td(row["hazard"]),
                    html.Td(row["highest_level"]),
                    html.Td(str(row["cases"])),
                    html.Td(city_time(row["start"], app.timezone)),
                    html.Td(city_time(row.get("end"), app.timezone)),
                    html.Td(html.A(text["report"], href=f"/api/emergencies/{row['id']}")),
                    html.Td(html.A(text["csv"], href=f"/api/emergencies/{row['id']}.csv")),
                ]
            )
            for row in rows
        ],
        className="periods",
    )


def city_time(iso: str | None, timezone: str) -> str:
    """An ISO 8601 instant as the city's date and time to the minute ("" for none)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _callbacks(app: App, desk: Dash) -> None:
    @desk.callback(
        Output("raise-confirm", "displayed"),
        Input("raise-button", "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_raise(_: Any) -> bool:
        return True

    @desk.callback(
        Output("clear-confirm", "displayed"),
        Input("clear-button", "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_clear(_: Any) -> bool:
        return True

    @desk.callback(
        Output("switch-result", "children"),
        Input("raise-confirm", "submit_n_clicks"),
        Input("clear-confirm", "submit_n_clicks"),
        State("switch-hazard", "value"),
        State("switch-level", "value"),
        State("switch-reason", "value"),
        prevent_initial_call=True,
    )
    def throw(raised: Any, cleared: Any, hazard: str, level: str, reason: str | None) -> Any:
        from dash import ctx

        action = "raise" if ctx.triggered_id == "raise-confirm" else "clear"
        user = {"role": session.get("role"), "username": session.get("username")}
        try:
            switch(app, user, action, reason or "", hazard, level)
        except SwitchRefused as error:
            return str(error)
        return labels(app.settings.language)["published"]
