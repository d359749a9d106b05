"""The leader's tablet (/tablet/): the city at a glance, drill-down, supervision (督办).

What is shown lives in the address (`?unit=`, `?district=`, `&case=`), so turning
the tablet, reloading it or going back keeps the leader where they were. The shown
part is redrawn when the address changes, when a push touches a case on it
(assets/tablet.js sets `tablet-refresh`) and every minute; the supervision note sits
outside it, so a redraw never loses what the leader is typing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, dcc, html
from flask import has_request_context

from dashboard.domain.access import Permission, allowed
from dashboard.store import drill, kpis, rolling
from dashboard.store.figures import kpi_strip
from dashboard.store.kpis import GroupBy, Period
from dashboard.web import auth
from dashboard.web.actions import ActionRefused, act
from dashboard.web.context import App
from layouts import bulletin
from layouts.components import inputs
from layouts.components import tabletviews as tv
from layouts.components.casedetail import case_detail
from layouts.components.views import data, view_app, view_header
from layouts.desk_text import text as desk_text
from layouts.i18n import labels
from streams.names import OPEN_STATES

REFRESH_MS = 60_000
# Query parameter -> the grouping it drills into.
GROUPS: dict[str, GroupBy] = {"unit": "department", "district": "district"}


def register(app: App) -> Dash:
    """Mount the tablet's Dash app (and its monthly bulletin) on the server."""
    tablet = view_app(app, "tablet", labels(app.settings.language)["tablet_title"])
    tablet.config.suppress_callback_exceptions = True  # the supervise form comes and goes
    tablet.layout = lambda: layout(app)
    _callbacks(app, tablet)
    bulletin.register(app)
    return tablet


def current_user() -> dict[str, Any]:
    """Who is signed in, as actions check it: the one place that reads the session."""
    if not has_request_context():
        return {"role": None, "username": None}
    return auth.as_user()


def layout(app: App) -> html.Div:
    """The frame: header with the data's age, the shown part, the supervise slot."""
    text = labels(app.settings.language)
    return html.Div(
        [
            view_header(app, "tablet_title", current_user()["username"]),
            html.Div(
                [
                    html.Span(text["data_age"], id="data-age", className="data-age stale"),
                    html.A(text["bulletin"], href="/tablet/bulletin", className="bulletin-link"),
                ],
                className="tablet-status",
            ),  # fmt: skip
            dcc.Location(id="tablet-url", refresh=False),
            html.Div(id="tablet-live"),
            html.Div(id="tablet-actions"),
            dcc.Store(id="tablet-refresh"),
            dcc.Interval(id="tablet-tick", interval=REFRESH_MS),
            dcc.Store(id="tablet-ready"),
        ],
        className="tablet",
        lang="en" if app.settings.language == "en" else "zh",
    )


def query(search: str | None) -> dict[str, str]:
    """The address's parameters, one value each."""
    asked = parse_qs(inputs.text(search).lstrip("?"))
    return {key: values[0] for key, values in asked.items()}


def shown(app: App, search: str | None) -> Any:
    """The part of the page the address asks for."""
    asked = query(search)
    back = {key: asked[key] for key in GROUPS if key in asked}
    if asked.get("case"):
        return case_view(app, asked["case"], back)
    for key, by in GROUPS.items():
        if asked.get(key):
            return group_view(app, by, asked[key], back)
    return overview(app)


def overview(app: App) -> html.Div:
    """The city at a glance: KPI cards, the two rankings, the longest overdue."""
    text, now = labels(app.settings.language), datetime.now(UTC)
    with app.store.sessions() as db:
        strip = kpi_strip(db, now, app.timezone)
        month = Period.month_of(now, app.timezone)
        by_unit = kpis.ranking(db, month, "department", now)
        by_district = kpis.ranking(db, month, "district", now)
        worst = drill.worst_overdue(db, now)
        named = tv.names(app)
        return html.Div(
            [tv.kpi_cards(strip, text),
             tv.overdue_panel(app, worst, now, text),
             html.Div([tv.ranking_panel(text["ranking_department"], "unit", by_unit, named, text),
                       tv.ranking_panel(text["ranking_district"], "district", by_district, named,
                                        text)], className="rankings")],
            className="overview", **data(view="overview"),
        )  # fmt: skip


def group_view(app: App, by: GroupBy, code: str, back: dict[str, str]) -> html.Div:
    """One unit or district: its figures, its open cases by light, its 30 days."""
    text, now = labels(app.settings.language), datetime.now(UTC)
    with app.store.sessions() as db:
        month = rolling.figures_of(db, Period.month_of(now, app.timezone), by, code, now)
        window = rolling.figures_of(db, rolling.window(now), by, code, now)
        found = drill.open_by_light(db, by, code, now)
        days = rolling.daily(db, by, code, now, app.timezone)
        return html.Div(
            [back_link(text, {}),
             html.H2(tv.names(app).get(code, code), className="group-name"),
             tv.figures_panel(month, window, text),
             html.Div([html.H2(text["trend_30d"]), tv.trend_chart(days, text)], className="panel"),
             tv.lights_panel(app, found, now, text, back)],
            className="group", **data(view="group", by=by, code=code),
        )  # fmt: skip


def case_view(app: App, case_id: str, back: dict[str, str]) -> html.Div:
    """One case in full (the desk's detail component)."""
    text = labels(app.settings.language)
    return html.Div(
        [back_link(text, back), case_detail(app, case_id)], **data(view="case", case=case_id)
    )


def back_link(text: dict[str, str], back: dict[str, str]) -> html.A:
    """The way back: to the unit or district the case was opened from, or the city."""
    return tv.nav("← " + text["tablet_back"], tv.href(**back), "back-link")


def supervise_form(app: App, search: str | None) -> Any:
    """The 督办 form under an open case, for those who may supervise."""
    case_id = query(search).get("case")
    found = app.store.case(case_id) if case_id else None
    if found is None or found.state not in OPEN_STATES:
        return None
    if not allowed(current_user()["role"], Permission.SUPERVISE):
        return None
    text = labels(app.settings.language)
    return html.Div(
        [html.H2(text["supervise"]),
         html.Div(text["supervised_already"], className="already") if found.supervised else None,
         dcc.Textarea(id="supervise-note", placeholder=text["supervise_note"], maxLength=500),
         html.Button(text["supervise"], id="supervise-button", className="supervise-button",
                     **data(action="supervise")),
         html.Div(id="supervise-result", className="supervise-result")],
        className="panel supervise", **data(case_id=found.case_id),
    )  # fmt: skip


def supervise(app: App, case_id: str | None, note: str | None) -> tuple[str, str]:
    """Supervise through the server's one action path; the result and the note left."""
    words = {**desk_text(app.settings.language), **labels(app.settings.language)}
    try:
        act(app, current_user(), case_id or "", "supervise", note or "")
    except ActionRefused as refused:
        return words.get(refused.key, str(refused)), note or ""
    return words["supervise_done"], ""


def _callbacks(app: App, tablet: Dash) -> None:
    @tablet.callback(
        Output("tablet-live", "children"),
        Input("tablet-url", "search"),
        Input("tablet-refresh", "data"),
        Input("tablet-tick", "n_intervals"),
    )
    def draw(search: str | None, *_: Any) -> Any:
        return shown(app, search)

    @tablet.callback(Output("tablet-actions", "children"), Input("tablet-url", "search"))
    def actions(search: str | None) -> Any:
        return supervise_form(app, search)

    @tablet.callback(
        Output("supervise-result", "children"),
        Output("supervise-note", "value"),
        Input("supervise-button", "n_clicks"),
        State("supervise-note", "value"),
        State("tablet-url", "search"),
        prevent_initial_call=True,
    )
    def supervise_case(_: Any, note: str | None, search: str | None) -> tuple[str, str]:
        return supervise(app, query(search).get("case"), inputs.text(note))
