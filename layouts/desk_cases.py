"""The desk's case work: filters, the live case table, the case detail, actions, alerts.

The table is AG Grid (dash-ag-grid) with row ids equal to case ids. assets/desk.js
loads it from /api/desk/cases and then applies the pushes the wall gets as row
transactions, so a row changes in place and the commander keeps scroll, sort and
selection. Filters run in the grid's own model (an external filter that desk.js
evaluates); their state is the page's URL query, the same one the CSV export reads.
The detail and the actions are server callbacks: every action goes through
dashboard.web.actions, which checks the role, audits and publishes on the stream.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html
from flask import has_request_context

from dashboard.domain.access import Permission, allowed
from dashboard.store.desk import MULTI
from dashboard.web import auth
from dashboard.web.actions import ActionRefused, act
from dashboard.web.context import App
from layouts.components import inputs
from layouts.components.casedetail import case_detail
from layouts.components.views import data
from layouts.desk_text import codes, text
from layouts.i18n import label
from streams.names import CaseState

# URL key -> stable control id (tests and bookmarks rely on both).
FILTERS = {"dep": "filter-department", "dis": "filter-district", "kind": "filter-kind",
           "major": "filter-major", "cat": "filter-category", "src": "filter-source",
           "st": "filter-state", "light": "filter-light", "u": "filter-urgency"}  # fmt: skip
ACTIONS = (("urge", Permission.URGE), ("supervise", Permission.SUPERVISE),
           ("flag", Permission.FLAG))  # fmt: skip
SOURCES = ("inspector", "citizen", "hotline", "video", "media", "self")
URGENCIES = ("normal", "urgent", "very_urgent")
LIGHTS = ("red", "yellow", "green", "none")


def case_work(app: App) -> html.Div:
    """Filters above, the table and the detail side by side, alerts on the right."""
    words = text(app.settings.language)
    return html.Div(
        [
            dcc.Location(id="desk-url", refresh=False),
            dcc.Store(id="desk-meta", data=meta(app)),
            dcc.Store(id="desk-started"),
            dcc.Store(id="desk-changed"),
            filters(app, words),
            html.Div(
                [
                    html.Div(
                        [grid(words), html.Div(id="desk-count", className="desk-count")],
                        className="desk-table",
                    ),  # fmt: skip
                    html.Div(
                        [
                            html.Div(id="desk-detail", children=case_detail(app, None)),
                            actions(words),
                        ],
                        className="desk-side",
                    ),  # fmt: skip
                    html.Div(id="desk-alerts", className="desk-alerts panel"),
                ],
                className="desk-work",
            ),
        ]
    )


def filters(app: App, words: dict[str, str]) -> html.Div:
    """Every filter, empty: desk.js puts the URL's filter on them (Dash builds the
    layout in a request of its own, which does not carry the page's query)."""
    catalogue, names = app.catalogue, codes(app.settings.language)
    english = app.settings.language == "en"

    def named(items: Any) -> list[dict[str, str]]:
        return [{"label": i.name_en if english else i.name, "value": i.code} for i in items]

    majors = catalogue.majors_en if english else catalogue.majors
    choices = {
        "dep": named(catalogue.units.values()),
        "dis": named(catalogue.districts.values()),
        "kind": [{"label": label(names, "", k), "value": k} for k in ("event", "component")],
        "major": [{"label": f"{code} {name}", "value": code}
                  for (_, code), name in sorted(majors.items())],
        "cat": [{"label": f"{c.code} {c.name_en if english else c.name}", "value": c.code}
                for c in catalogue.categories.values()],
        "src": [{"label": label(names, "", s), "value": s} for s in SOURCES],
        "st": [{"label": label(names, "", s.value), "value": s.value} for s in CaseState],
        "light": [{"label": names.get(s, "—"), "value": s} for s in LIGHTS],
        "u": [{"label": label(names, "", u), "value": u} for u in URGENCIES],
    }  # fmt: skip
    assert set(choices) == set(MULTI) == set(FILTERS)
    controls: list[Any] = [
        dcc.Input(
            id="filter-text",
            type="search",
            value="",
            debounce=0.3,
            placeholder=words["filter_text"],
            className="filter-text",
        ),  # fmt: skip
    ]
    for key, control_id in FILTERS.items():
        controls.append(
            dcc.Dropdown(
                choices[key],
                [],
                id=control_id,
                multi=True,
                placeholder=words[control_id.replace("-", "_")],
                className="filter",
            )  # fmt: skip
        )
    controls.append(
        dcc.Checklist(
            [
                {"label": words["filter_supervised"], "value": "sv"},
                {"label": words["filter_closed"], "value": "closed"},
            ],
            [],
            id="filter-flags",
            inline=True,
        )  # fmt: skip
    )
    controls.append(html.Button(words["filter_clear"], id="filter-clear"))
    controls.append(html.A(words["export_csv"], id="desk-export", href="/api/desk/export.csv"))
    return html.Div(controls, className="desk-filters")


def grid(words: dict[str, str]) -> dag.AgGrid:
    """The live case table (rows come from desk.js)."""
    col = [
        {"field": "id", "headerName": words["col_case"], "pinned": "left", "width": 150},
        {"field": "catName", "headerName": words["col_category"], "width": 170},
        {"field": "place", "headerName": words["col_place"], "width": 170},
        {"field": "unitName", "headerName": words["col_unit"], "width": 150},
        {"field": "stName", "headerName": words["col_state"], "width": 100},
        {"colId": "left", "headerName": words["col_left"], "width": 120,
         "valueGetter": {"function": "deskLeft(params)"},
         "valueFormatter": {"function": "deskCountdown(params.value)"},
         "cellClassRules": {"light-red": "deskLight(params) === 'red'",
                            "light-yellow": "deskLight(params) === 'yellow'",
                            "light-green": "deskLight(params) === 'green'"}},
        {"field": "uName", "headerName": words["col_urgency"], "width": 100},
        {"field": "srcName", "headerName": words["col_source"], "width": 110},
        {"field": "rep", "headerName": words["col_reported"], "width": 150, "sort": None,
         "valueFormatter": {"function": "deskTime(params.value)"}},
        {"field": "marks", "headerName": words["col_marks"], "width": 90},
    ]  # fmt: skip
    return dag.AgGrid(
        id="desk-grid",
        columnDefs=col,
        rowData=[],
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "isExternalFilterPresent": {"function": "deskFilterPresent()"},
            "doesExternalFilterPass": {"function": "deskFilterPass(params)"},
            "theme": {"function": "deskTheme(agGrid)"},
            "animateRows": False,
            "rowHeight": 36,
        },  # fmt: skip
        style={"height": "640px", "width": "100%"},
        className="desk-grid",
    )


def actions(words: dict[str, str]) -> html.Div:
    """The note and the buttons the signed-in user's role allows (checked again on the server)."""
    role = auth.as_user()["role"] if has_request_context() else None
    buttons = [
        html.Button(
            words[f"act_{name}"],
            id={"type": "case-action", "action": name},
            className=f"action action-{name}",
            **data(action=name),
        )  # fmt: skip
        for name, permission in ACTIONS
        if allowed(role, permission)
    ]
    return html.Div(
        [dcc.Textarea(id="action-note", placeholder=words["note_placeholder"], maxLength=500),
         html.Div(buttons, className="action-buttons"),
         html.Div(id="action-result", className="action-result")],
        className="desk-actions panel",
    )  # fmt: skip


def meta(app: App) -> dict[str, Any]:
    """Names desk.js shows instead of codes, and the labels it needs."""
    english = app.settings.language == "en"
    catalogue = app.catalogue

    def name(item: Any) -> str:
        return str(item.name_en if english else item.name)

    return {
        "categories": {f"{k.value}:{c}": name(cat) for (k, c), cat in catalogue.categories.items()},
        "units": {code: name(unit) for code, unit in catalogue.units.items()},
        "districts": {code: name(d) for code, d in catalogue.districts.items()},
        "streets": {s.code: name(s) for d in catalogue.districts.values() for s in d.streets},
        "codes": codes(app.settings.language),
        "labels": text(app.settings.language),
        "username": auth.username(),
    }


def callbacks(app: App, desk: Dash) -> None:
    """The detail and the actions (server); filters and start-up (in the browser)."""
    desk.clientside_callback(
        "function (meta) { return window.commandhall.get('desk').start(meta); }",
        Output("desk-started", "data"),
        Input("desk-meta", "data"),
    )
    desk.clientside_callback(
        "function () { return window.commandhall.get('desk').filtered(arguments); }",
        Output("desk-url", "search"),
        Output("desk-export", "href"),
        Input("filter-text", "value"),
        [Input(control_id, "value") for control_id in FILTERS.values()],
        Input("filter-flags", "value"),
    )
    desk.clientside_callback(
        "function () { return window.commandhall.get('desk').cleared(); }",
        Output("filter-text", "value"),
        [Output(control_id, "value") for control_id in FILTERS.values()],
        Output("filter-flags", "value"),
        Input("filter-clear", "n_clicks"),
        prevent_initial_call=True,
    )

    @desk.callback(
        Output("desk-detail", "children"),
        Input("desk-grid", "selectedRows"),
        Input("desk-changed", "data"),
    )
    def show(selected: list[dict[str, Any]] | None, _: Any) -> Any:
        return case_detail(app, inputs.selected_case(selected))

    @desk.callback(
        Output("action-result", "children"),
        Output("action-note", "value"),
        Input({"type": "case-action", "action": ALL}, "n_clicks"),
        State("action-note", "value"),
        State("desk-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def do(clicks: list[int | None], note: str | None, selected: Any) -> Any:
        note = inputs.text(note)
        action = inputs.triggered_field(ctx.triggered_id, "action")
        if action is None or not inputs.clicked(clicks):
            return "", note
        words = text(app.settings.language)
        case_id = inputs.selected_case(selected)
        if case_id is None:
            return words["detail_none"], note
        user = auth.as_user()
        try:
            act(app, user, case_id, action, note)
        except ActionRefused as refused:
            return words.get(refused.key, str(refused)), note
        return words["act_done"], ""
