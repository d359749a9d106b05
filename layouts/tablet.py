"""The leader's tablet (/tablet/): the city at a glance and the month's rankings.

Big rows for a finger; the KPI figures follow live pushes (assets/tablet.js), the
rankings are drawn when the page opens (they move slowly).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, dcc, html

from dashboard.store import kpis
from dashboard.store.kpis import Period, Ranked
from dashboard.web import auth
from dashboard.web.context import App
from layouts.components.views import data, view_app, view_header
from layouts.i18n import labels

STRIP = ("reported", "filed", "dispatched", "closed", "closure_rate", "on_time_rate")


def register(app: App) -> Dash:
    """Mount the tablet's Dash app on the server."""
    tablet = view_app(app, "tablet", labels(app.settings.language)["tablet_title"])
    tablet.layout = lambda: layout(app)
    return tablet


def layout(app: App) -> html.Div:
    """The tablet page: KPI boxes and two rankings."""
    text = labels(app.settings.language)
    username = auth.username()
    now = datetime.now(UTC)
    with app.store.sessions() as db:
        strip = kpis.strip(db, now, app.timezone).as_dict()
        month = Period.month_of(now, app.timezone)
        by_unit = kpis.ranking(db, month, "department", now)
        by_district = kpis.ranking(db, month, "district", now)
    english = app.settings.language == "en"
    units, districts = app.catalogue.units, app.catalogue.districts
    names = {c: u.name_en if english else u.name for c, u in units.items()}
    names.update({c: d.name_en if english else d.name for c, d in districts.items()})
    return html.Div(
        [
            view_header(app, "tablet_title", username),
            html.Div([kpi_box(key, strip[key], text) for key in STRIP], className="kpi-row"),
            ranking_panel(text["ranking_department"], by_unit, names, text),
            ranking_panel(text["ranking_district"], by_district, names, text),
            dcc.Store(id="tablet-ready"),
        ],
        className="tablet",
        lang="en" if app.settings.language == "en" else "zh",
    )


def kpi_box(key: str, value: Any, text: dict[str, str]) -> html.Div:
    """One figure in a box; rates as percentages."""
    shown = value if not key.endswith("_rate") else ("—" if value is None else f"{value:.1%}")
    return html.Div(
        [html.Div(str(shown), className="value"), html.Div(text[key], className="label")],
        className="kpi-box",
        **data(kpi=key),
    )


def ranking_panel(title: str, rows: list[Ranked], names: dict[str, str], text: dict) -> html.Div:
    """A ranking table with grades, one finger-high row per unit."""
    head = html.Tr(
        [html.Th(text["rank"]), html.Th(""), html.Th(text["score"]), html.Th(text["grade"])]
    )
    body = [
        html.Tr(
            [
                html.Td(str(row.rank)),
                html.Td(names.get(row.code, row.code)),
                html.Td(f"{row.score:.1f}"),
                html.Td(row.grade, className=f"grade-{row.grade}"),
            ],
            **data(code=row.code),
        )
        for row in rows
    ]
    return html.Div(
        [html.H2(title), html.Table([head, *body], className="ranking")], className="panel"
    )
