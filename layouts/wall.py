"""The display wall (/wall/): city map, countdown boards per department, KPI strip.

The server renders only the frame and the screen's rules; the browser loads the open
cases from the warm snapshot (/api/snapshot), keeps them in memory and renders boards,
KPIs and map markers from them (assets/wall.js), so one renderer serves the first
paint and every live push, and countdowns tick locally.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import has_request_context, session

from dashboard.domain.walls import Screen
from dashboard.web.context import App
from layouts.components.citymap import city_map
from layouts.components.views import data, view_app
from layouts.i18n import labels
from streams.names import CaseState


def register(app: App) -> Dash:
    """Mount the wall's Dash app on the server."""
    wall = view_app(app, "wall", labels(app.settings.language)["title"])
    wall.layout = lambda: layout(app)
    wall.clientside_callback(
        ClientsideFunction(namespace="wall", function_name="render"),
        Output("wall-boards", "children"),
        Output("wall-kpis", "children"),
        Input("wall-snapshot", "data"),
        Input("wall-tick", "data"),
    )
    return wall


def meta(app: App) -> dict[str, Any]:
    """Names a screen shows (units, categories, labels) and the rules it draws by."""
    catalogue = app.catalogue
    language = app.settings.language
    english = language == "en"
    return {
        "units": {c: (u.name_en if english else u.name) for c, u in catalogue.units.items()},
        "categories": {
            f"{kind}:{code}": (c.name_en if english else c.name)
            for (kind, code), c in catalogue.categories.items()
        },
        "labels": labels(language),
        "states": {
            "open": [state.value for state in CaseState if state.is_open],
            "closed": [state.value for state in CaseState if not state.is_open],
        },
        # The light's thresholds are each case's own instants, dl and wa, which the
        # server computes with the warn ratio; while suspended (挂账) a case's clock
        # stands and it has no light (api.light_of).
        "light": {"stopped": [CaseState.SUSPENDED.value]},
    }


def wall_map(app: App, screen: Screen) -> Any:
    """The city map, fitted to the part of the city this screen shows."""
    built = city_map(app.catalogue, app.settings.tile_url, "wall-map")
    if screen.bounds is not None:
        west, south, east, north = screen.bounds
        built.bounds = [[south, west], [north, east]]
    return built


def layout(app: App) -> html.Div:
    """The wall page: header, KPI strip, map and boards, and the data stores."""
    text = labels(app.settings.language)
    # Dash also calls this once at start-up, outside any request, to validate it.
    screen = app.walls.screen(session.get("screen") if has_request_context() else None)
    return html.Div(
        [
            header(text),
            html.Div(id="wall-kpis", className="kpi-strip"),
            html.Div(
                [
                    html.Div(
                        # The legend sits below the map, where it covers nothing.
                        [
                            wall_map(app, screen),
                            html.Div(id="wall-map-legend", className="map-legend"),
                        ],
                        className="map-panel",
                    ),
                    html.Div(id="wall-boards", className="boards"),
                ],
                className="wall-body",
            ),
            # What the screen draws by: names, rules, its own layout, the pages' build.
            # The cases are not in the layout (megabytes at 100,000 open cases, read
            # per page load): the page loads the warm snapshot from /api/snapshot once
            # its live connection is up (assets/live.js `begin`).
            dcc.Store(
                id="wall-snapshot",
                data={"build": app.build, "meta": {**meta(app), "screen": screen.as_dict()}},
            ),
            dcc.Store(id="wall-tick"),
        ],
        className="wall",
        **screen_attributes(screen),
        lang="en" if app.settings.language == "en" else "zh",
    )


def screen_attributes(screen: Screen) -> Any:
    """data-* attributes naming the screen and the view it starts with."""
    return data(view=screen.views[0].view.value, screen=screen.id)


def header(text: dict[str, str]) -> html.Div:
    """Title, the emergency banner slot, the clock and the data-age indicator."""
    return html.Div(
        [
            html.H1(text["title"], className="wall-title"),
            html.Div(id="emergency-banner", className="emergency-slot"),
            html.Div(id="wall-clock", className="wall-clock"),
            html.Div(text["data_age"], id="data-age", className="data-age stale"),
        ],
        className="wall-header",
    )
