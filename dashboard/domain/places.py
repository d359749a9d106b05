"""Which configured area a point lies in: districts, and streets or grids with outlines.

A report may carry only `lon`/`lat`; the server has the outlines, so it places the
case itself and the case counts in its district's ranking and shading. Shapely's
STRtree finds the candidate outlines, a prepared polygon answers the containment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import Point, shape

LEVELS = ("district", "street", "grid")


class Outlines:
    """The outlines of one level of areas, by code, searchable by point."""

    def __init__(self, geometries: Mapping[str, Mapping[str, Any]]) -> None:
        self.codes = list(geometries)
        self.shapes = [shape(geometry) for geometry in geometries.values()]
        shapely.prepare(self.shapes)
        self.tree = shapely.STRtree(self.shapes)

    def find(self, lon: float, lat: float) -> str | None:
        """The code of the area covering the point (its edge included), if any."""
        hits = self.tree.query(Point(lon, lat), predicate="covered_by")
        return self.codes[int(min(hits))] if len(hits) else None


class Places:
    """Outlines by level; a level without outlines places nothing."""

    def __init__(self, levels: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        self.levels = {level: Outlines(found) for level, found in levels.items() if found}

    def locate(self, lon: float, lat: float) -> dict[str, str]:
        """The codes of the areas that cover a point, by level."""
        found = {level: outlines.find(lon, lat) for level, outlines in self.levels.items()}
        return {level: code for level, code in found.items() if code is not None}
