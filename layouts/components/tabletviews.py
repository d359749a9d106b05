"""The tablet's pieces: KPI cards, rankings, case rows, a group's drill-down and trend.

Everything a finger taps is a link, at least 44 px each way (tablet.css). Links are
plain `<a>` marked `data-nav` (dcc.Link takes no data-* attributes): assets/tablet.js
turns a tap into an address change without a reload, and without the script they
still work as links. They carry what they open: `data-code` for a unit or district,
`data-case-id` for a case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import dcc, html

from dashboard.domain.lifecycle import light_of
from dashboard.store import kpis
from dashboard.store.drill import LIGHTS, ByLight
from dashboard.store.kpis import Figures, Ranked
from dashboard.store.models import Case
from dashboard.store.rolling import Day
from dashboard.web.context import App
from layouts.components.views import data
from layouts.i18n import label

TODAY = ("reported", "filed", "dispatched", "closed")
RATES = ("closure_rate", "on_time_rate")
# Plotly draws its own SVG text: it must be told the page's (served) font.
FONT = '"Noto Sans SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
GROUP_RATES = ("on_time_rate", "closure_rate", "handling_rate", "overdue_pending_rate")


def names(app: App) -> dict[str, str]:
    """Units' and districts' names by code, in the screens' language."""
    english = app.settings.language == "en"
    found = {c: u.name_en if english else u.name for c, u in app.catalogue.units.items()}
    found.update({c: d.name_en if english else d.name for c, d in app.catalogue.districts.items()})
    return found


def percent(value: float | None) -> str:
    """A rate as the screens write it; "—" only when nothing is due at all."""
    return "—" if value is None else f"{value:.1%}"


def href(**query: str | None) -> str:
    """A tablet address with these query parameters (None ones left out)."""
    kept = {key: value for key, value in query.items() if value}
    return "/tablet/" + (f"?{urlencode(kept)}" if kept else "")


def nav(children: Any, to: str, class_name: str, **marks: str) -> html.A:
    """A link inside the tablet: the address changes, the page is not reloaded."""
    return html.A(children, href=to, className=class_name, **data(nav="1", **marks))


def kpi_cards(strip: dict[str, Any], text: dict[str, str]) -> html.Div:
    """Today's counts, then each rate over 30 days with the calendar month's under it."""
    cards = [kpi_card(key, str(strip[key]), text[key], None) for key in TODAY]
    for key in RATES:
        month = strip[key]
        sub = text["month_none"] if month is None else f"{text['month_short']} {percent(month)}"
        cards.append(kpi_card(f"{key}_30d", percent(strip[f"{key}_30d"]), text[f"{key}_30d"],
                              html.Div(sub, className="sub", **data(kpi_month=key))))  # fmt: skip
    return html.Div(cards, className="kpi-row")


def kpi_card(key: str, value: str, label: str, sub: Any) -> html.Div:
    """One figure in a box."""
    parts = [html.Div(value, className="value"), html.Div(label, className="label")]
    return html.Div(parts + ([sub] if sub is not None else []), className="kpi-box",
                    **data(kpi=key))  # fmt: skip


def ranking_panel(
    title: str, by: str, rows: list[Ranked], names: dict[str, str], text: dict
) -> html.Div:
    """A ranking with grades; each row opens that unit or district."""
    head = html.Div(
        [html.Span(text["rank"]), html.Span(""), html.Span(text["score"]),
         html.Span(text["grade"])], className="rank-row rank-head",
    )  # fmt: skip
    body = [
        nav(
            [
                html.Span(str(row.rank)),
                html.Span(names.get(row.code, row.code), className="name"),
                html.Span(f"{row.score:.1f}"),
                html.Span(row.grade, className=f"grade-{row.grade}"),
            ],
            href(**{by: row.code}),
            "rank-row",
            code=row.code,
            by=by,
        )  # fmt: skip
        for row in rows
    ]
    return html.Div([html.H2(title), html.Div([head, *body], className="ranking")],
                    className="panel", **data(ranking=by))  # fmt: skip


def case_link(app: App, case: Case, now: datetime, text: dict, back: dict[str, str]) -> html.A:
    """One case as a finger-high row: category, unit, time left or overdue, marks."""
    light = light_of(case, now)
    category = app.catalogue.category(case.kind, case.category)
    english = app.settings.language == "en"
    name = (category.name_en if english else category.name) if category else case.category
    unit = app.catalogue.units.get(case.department or "")
    parts = [html.Span(name, className="case-name"),
             html.Span((unit.name_en if english else unit.name) if unit else "", className="unit"),
             html.Span(left(case, now, text), className="left")]  # fmt: skip
    if case.supervised:
        parts.insert(0, html.Span(text["mark_supervised"], className="mark-supervised"))
    state = light.value if light is not None else "none"
    return nav(
        parts,
        href(**back, case=case.case_id),
        f"case-link light-{state}" + (" supervised" if case.supervised else ""),
        case_id=case.case_id,
        unit=case.department or "",
        district=case.district or "",
        light=state,
        supervised="true" if case.supervised else "",
    )


def left(case: Case, now: datetime, text: dict[str, str]) -> str:
    """Time left to the deadline, or how long overdue, in hours and minutes."""
    if case.deadline is None:
        return ""
    seconds = int((case.deadline - now).total_seconds())
    hours, minutes = divmod(abs(seconds) // 60, 60)
    shown = f"{hours}:{minutes:02d}"
    return f"{text['overdue_by']} {shown}" if seconds <= 0 else shown


def overdue_panel(app: App, cases: list[Case], now: datetime, text: dict) -> html.Div:
    """The longest overdue cases of the city."""
    rows = [case_link(app, c, now, text, {}) for c in cases]
    return html.Div(
        [html.H2(text["worst_overdue"]),
         html.Div(rows or text["no_overdue"], className="case-list")],
        className="panel", **data(panel="overdue"),
    )  # fmt: skip


def figures_panel(row: Figures | None, window: Figures | None, text: dict) -> html.Div:
    """A group's score and grade this month, its rates this month and over 30 days."""
    points = kpis.score(row) if row is not None else None
    head = (f"{text['score']} {points:.1f} · {text['grade']} {kpis.grade(points)}"
            if points is not None else text["not_ranked"])  # fmt: skip
    cells = []
    for key in GROUP_RATES:
        month = getattr(row, key) if row is not None else None
        rolled = getattr(window, key) if window is not None else None
        cells.append(html.Div(
            [html.Div(percent(rolled), className="value"),
             html.Div(text["window_rate"].format(name=text[f"name_{key}"]), className="label"),
             html.Div(f"{text['month_short']} {percent(month)}", className="sub")],
            className="kpi-box", **data(kpi=f"{key}_30d"),
        ))  # fmt: skip
    return html.Div([html.H2(head, className="group-score"), html.Div(cells, className="kpi-row")],
                    className="panel")  # fmt: skip


def lights_panel(
    app: App, found: ByLight, now: datetime, text: dict, back: dict[str, str]
) -> html.Div:
    """The group's open cases under their light, red first."""
    sections = []
    for light in LIGHTS:
        rows: list[Any] = [case_link(app, c, now, text, back) for c in found.cases[light]]
        hidden = found.counts[light] - len(rows)
        if hidden > 0:
            rows.append(html.Div(text["more_cases"].format(n=hidden), className="more"))
        sections.append(html.Div(
            [html.H3(f"{label(text, 'light', light)} {found.counts[light]}"),
             html.Div(rows, className="case-list")],
            className=f"light-section light-{light}", **data(light_section=light),
        ))  # fmt: skip
    return html.Div([html.H2(f"{text['open_by_light']} · {found.total}"), *sections],
                    className="panel")  # fmt: skip


def trend_chart(days: list[Day], text: dict[str, str]) -> html.Div:
    """Dispatched and closed a day over 30 days; static, so nothing on it is a tap target."""
    x = [day.day for day in days]
    figure = go.Figure(
        [go.Bar(x=x, y=[d.dispatched for d in days], name=text["trend_dispatched"],
                marker_color="#3d8bd9"),
         go.Scatter(x=x, y=[d.closed for d in days], name=text["trend_closed"],
                    mode="lines+markers", line={"color": "#2ecc71", "width": 3}),
         go.Scatter(x=x, y=[d.closed_late for d in days], name=text["trend_late"],
                    mode="lines", line={"color": "#ff4d4f", "width": 2, "dash": "dot"})],
    )  # fmt: skip
    figure.update_layout(
        height=260, margin={"l": 36, "r": 12, "t": 12, "b": 36},
        paper_bgcolor="#0f1b2d", plot_bgcolor="#0f1b2d",
        font={"color": "#cfe3f7", "size": 14, "family": FONT},
        legend={"orientation": "h", "y": 1.12}, yaxis={"rangemode": "tozero"},
        xaxis={"type": "date", "tickformat": "%m-%d", "nticks": 8},
    )  # fmt: skip
    graph = dcc.Graph(
        figure=figure, config={"staticPlot": True, "displayModeBar": False}, className="trend"
    )
    return html.Div(graph, **data(trend="30d"))  # dcc.Graph takes no data-* hooks
