"""The city map: district outlines drawn locally, shaded by cases, open cases on top.

No request leaves the server: with no intranet tile URL configured, the map has no
tile layer at all and the district outlines are the base map.

The open cases are not a dash-leaflet layer: with 100,000 of them, passing a feature
list through React on every push is too slow, so assets/map.js indexes and draws
them on the Leaflet map itself. It is handed the map by the outlines' onEachFeature,
and shades the districts by the count named in the outlines' hideout.
"""

from __future__ import annotations

from typing import Any, Literal

import dash_leaflet as dl

from dashboard.domain.catalogue import Catalogue

Shade = Literal["overdue", "open"]
SHADES: tuple[Shade, ...] = ("overdue", "open")

OUTLINE_STYLE = {"color": "#4f6d8f", "weight": 1.5, "fillColor": "#16263a", "fillOpacity": 0.7}
# Over intranet tiles the shading is lighter, so streets still show through it.
TILED_FILL_OPACITY = 0.35
MAX_ZOOM = 18


def city_map(
    catalogue: Catalogue, tile_url: str, map_id: str, *, shade: Shade = "overdue"
) -> dl.Map:
    """A map fitted to the city: districts shaded by open or overdue cases, and the cases."""
    if shade not in SHADES:
        raise ValueError(f"shade must be one of {', '.join(SHADES)}, not {shade!r}")
    min_lon, min_lat, max_lon, max_lat = catalogue.bbox
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution="", maxZoom=MAX_ZOOM))
    layers.append(district_outlines(catalogue, map_id, shade, bool(tile_url)))
    return dl.Map(
        layers,
        id=map_id,
        bounds=[[min_lat, min_lon], [max_lat, max_lon]],
        maxZoom=MAX_ZOOM,
        zoomControl=False,
        trackViewport=False,
        attributionControl=False,
        className="city-map",
        style={"background": "#0b1320"},
    )


def district_outlines(catalogue: Catalogue, map_id: str, shade: Shade, tiled: bool) -> dl.GeoJSON:
    """The districts; map.js finds the map through them and fills them by count."""
    style = {**OUTLINE_STYLE, "fillOpacity": TILED_FILL_OPACITY if tiled else 0.7}
    return dl.GeoJSON(
        id=f"{map_id}-outlines",
        data=catalogue.outlines,
        style=style,
        # Not interactive: hovering a district must not send Dash prop updates, and
        # clicks go through to the map.
        interactive=False,
        hideout={"shade": shade},
        onEachFeature={"variable": "commandhall.map.onDistrict"},
    )
