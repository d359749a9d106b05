"""The city map: district outlines drawn locally, open cases clustered on top.

No request leaves the server: with no intranet tile URL configured, the map has no
tile layer at all and the district outlines are the base map.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from dashboard.catalogue import Catalogue

OUTLINE_STYLE = {"color": "#4f6d8f", "weight": 1.5, "fillColor": "#16263a", "fillOpacity": 0.7}


def city_map(catalogue: Catalogue, tile_url: str, map_id: str) -> dl.Map:
    """A map fitted to the city, with its outlines and a layer for the cases."""
    min_lon, min_lat, max_lon, max_lat = catalogue.bbox
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=""))
    layers += [
        dl.GeoJSON(data=catalogue.outlines, style=OUTLINE_STYLE, id=f"{map_id}-outlines"),
        dl.GeoJSON(
            id=f"{map_id}-cases",
            data={"type": "FeatureCollection", "features": []},
            cluster=True,
            zoomToBoundsOnClick=True,
            superClusterOptions={"radius": 60, "maxZoom": 15},
            pointToLayer={"variable": "commandhall.map.pointToLayer"},
            clusterToLayer={"variable": "commandhall.map.clusterToLayer"},
        ),
    ]
    return dl.Map(
        layers,
        id=map_id,
        bounds=[[min_lat, min_lon], [max_lat, max_lon]],
        zoomControl=False,
        trackViewport=False,
        attributionControl=False,
        className="city-map",
        style={"background": "#0b1320"},
    )
