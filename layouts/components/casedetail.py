"""One case in full: its fields, its history, its place and how its deadline came about.

Shared by the desk and the tablet. Everything from reports (description, address,
notes) goes into Dash components as text, so HTML in it is shown, never interpreted.
Hooks for tests and tools: the panel carries `data-case-id`, each history entry
`data-event-type`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import html

from dashboard.domain.lifecycle import light_of
from dashboard.store.models import Case, EventRow
from dashboard.web.context import App
from layouts.components.views import data
from layouts.desk_text import codes, text
from layouts.i18n import label

MARKER = {"color": "#ffd166", "fillColor": "#ffd166", "fillOpacity": 0.9, "weight": 2}


def case_detail(app: App, case_id: str | None, language: str | None = None) -> html.Div:
    """The detail panel of a case (a hint when none is chosen or it does not exist)."""
    words = text(language or app.settings.language)
    found = app.store.case(case_id) if case_id else None
    if found is None:
        return html.Div(words["detail_none"], className="case-detail empty")
    history = app.store.history(found.case_id)
    names = codes(language or app.settings.language)
    return html.Div(
        [
            html.H2(f"{words['case']} {found.case_id}"),
            fields(app, found, words, names),
            deadline_panel(app, found, history, words),
            small_map(app, found),
            html.H3(words["history"]),
            html.Ol([entry(app, row, names) for row in history], className="history"),
        ],
        className="case-detail",
        **data(case_id=found.case_id),
    )


def fields(app: App, case: Case, words: dict[str, str], names: dict[str, str]) -> html.Dl:
    """Every field a commander asks about, named."""
    catalogue, english = app.catalogue, app.settings.language == "en"
    category = catalogue.category(case.kind, case.category)
    unit = catalogue.units.get(case.department or "")
    district = catalogue.districts.get(case.district or "")
    # Ingest keeps only the areas the catalogue knows (Catalogue.place): a case
    # without a district is one nobody could place, said so rather than left blank.
    unplaced = words["unplaced"]
    rows = [
        (words["col_category"], _name(category, english, f"{case.kind} {case.category}")),
        (words["col_state"], label(names, "", case.state)),
        (words["col_unit"], _name(unit, english, case.department or "—")),
        (words["col_place"], f"{_name(district, english, case.district or unplaced)} / "
                             f"{_street(app, case.street, english)}"),
        (words["grid"], case.grid or "—"),
        (words["address"], case.address or "—"),
        (words["description"], case.description or "—"),
        (words["col_urgency"], label(names, "", case.urgency)),
        (words["col_source"], label(names, "", case.source)),
        (words["col_reported"], when(app, case.reported_at)),
        (words["col_marks"], marks(case, words) or "—"),
    ]  # fmt: skip
    return html.Dl([part for name, value in rows for part in (html.Dt(name), html.Dd(value))])


def deadline_panel(app: App, case: Case, history: list[EventRow], words: dict) -> html.Div:
    """The deadline and what made it: limit, unit, suspensions, extensions, emergency."""
    category = app.catalogue.category(case.kind, case.category)
    light = light_of(case, datetime.now(ZoneInfo("UTC")))
    unit = label(words, "unit", case.limit_unit, "")
    limit = f"{case.limit_value:g} {unit}" if case.limit_value else "—"
    if category is not None and case.limit_value:
        normal = category.limit_for(case.urgency)
        limit += f" ({normal.value:g} {label(words, 'unit', normal.unit.value)})"
    suspensions = sum(1 for row in history if row.type == "case.suspended")
    rows = [
        (words["limit"], limit),
        (words["deadline"], when(app, case.deadline)),
        (words["warn_at"], when(app, case.warn_at)),
        (words["suspensions"], str(suspensions)),
        (words["extensions"], f"{case.extensions} (+{case.extended_hours:g} h)"),
    ]
    if case.emergency:
        rows.append((words["emergency_cap"], words["emergency_case"]))
    return html.Div(
        [html.H3(words["deadline_how"]),
         html.Dl([p for name, value in rows for p in (html.Dt(name), html.Dd(value))])],
        className=f"deadline light-{light.value if light else 'none'}",
    )  # fmt: skip


def small_map(app: App, case: Case) -> dl.Map:
    """The case's position over the district outlines (and intranet tiles if configured)."""
    layers: list[Any] = []
    if app.settings.tile_url:
        layers.append(dl.TileLayer(url=app.settings.tile_url, attribution=""))
    outline = {"color": "#4f6d8f", "weight": 1, "fillOpacity": 0.3}
    layers.append(dl.GeoJSON(data=app.catalogue.outlines, interactive=False, style=outline))
    layers.append(dl.CircleMarker(center=[case.lat, case.lon], radius=9, **MARKER))
    return dl.Map(
        layers,
        center=[case.lat, case.lon],
        zoom=14,
        zoomControl=False,
        attributionControl=False,
        className="case-map",
        style={"height": "220px", "background": "#0b1320"},
    )


def entry(app: App, row: EventRow, names: dict[str, str]) -> html.Li:
    """One event of the history: time, what, who, note."""
    parts = [html.Span(when(app, row.at), className="at"),
             html.Span(label(names, "", row.type), className="what")]  # fmt: skip
    if row.actor:
        parts.append(html.Span(row.actor, className="by"))
    if row.note:
        parts.append(html.Span(row.note, className="note"))
    return html.Li(parts, **data(event_type=row.type))


def marks(case: Case, words: dict[str, str]) -> str:
    """Supervised, urged (with count) and emergency marks."""
    found = []
    if case.supervised:
        found.append(words["marks_supervised"])
    if case.urges:
        found.append(f"{words['marks_urged']}×{case.urges}")
    if case.emergency:
        found.append(words["marks_emergency"])
    return " ".join(found)


def when(app: App, moment: datetime | None) -> str:
    """A time in the city's zone, to the minute."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(app.timezone)).strftime("%Y-%m-%d %H:%M")


def _street(app: App, code: str | None, english: bool) -> str:
    """A street's name; its code if the catalogue lost it since; "—" without one."""
    found = app.catalogue.street(code) if code else None
    return _name(found, english, code or "—")


def _name(item: Any, english: bool, default: str) -> str:
    if item is None:
        return default
    return str(item.name_en if english else item.name)
