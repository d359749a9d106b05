"""The simulated city: when cases arrive, what they are about and where they are.

Pure model, no I/O: `dashboard.sim.simulator` draws from it to build each case's story.
Weights follow DOMAIN.md and city reports (exposed garbage, parking, vendors and dirty
roads dominate; emergencies are rare); unknown codes of another city's catalogue get
a small default weight, so any catalogue works.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from dashboard.domain.catalogue import Catalogue, Category, District
from streams.names import Kind, Source, Urgency

T = TypeVar("T")
Point = tuple[float, float]
Ring = list[Point]

# Reports per hour of the local day, relative: inspectors patrol from 08:00, citizens
# call after work; quiet at night, peaks mid-morning and mid-afternoon.
_HOURLY = (
    *(0.15, 0.1, 0.07, 0.06, 0.07, 0.12, 0.35, 0.8, 1.5, 2.0, 2.2, 1.8),
    *(1.0, 0.9, 1.6, 2.0, 1.9, 1.4, 0.9, 0.7, 0.55, 0.45, 0.3, 0.2),
)
_MEAN = sum(_HOURLY) / len(_HOURLY)
RHYTHM_PEAK = max(_HOURLY) / _MEAN

# (weight, share self-handled) by (kind, code). Self-handling (自查自纠) is only for
# what an inspector can fix on the spot: litter, small ads, a vendor moved on.
E, C = Kind.EVENT, Kind.COMPONENT
_MIX: dict[tuple[Kind, str], tuple[float, float]] = {
    (E, "0102"): (18, 0.7),  # exposed garbage
    (E, "0505"): (14, 0.4),  # illegal parking
    (E, "0501"): (10, 0.55),  # unlicensed vendor
    (E, "0104"): (10, 0.55),  # dirty road
    (E, "0504"): (8, 0.5),  # business outside the shop
    (E, "0201"): (8, 0.7),  # illegal small ads
    (E, "0507"): (5, 0.5),  # shared bicycles
    (E, "0103"): (4, 0.1),  # piled garbage or muck
    (E, "0111"): (3, 0.5),  # materials piled
    (E, "0511"): (2, 0.5),  # frontage duties
    (E, "0112"): (2, 0.5),  # laundry
    (E, "0202"): (2, 0.5),  # banners
    (E, "0204"): (1.5, 0.5),  # leafleting
    (E, "0106"): (1.5, 0.5),  # untidy green space
    (E, "0115"): (1.5, 0.3),  # graffiti
    (E, "0110"): (1.5, 0.0),  # damaged road
    (E, "0108"): (1.5, 0.1),  # abandoned furniture
    (E, "0510"): (1.5, 0.3),  # outdoor barbecue
    (E, "0503"): (1, 0.5),  # scrap collecting
    (E, "0508"): (1, 0.5),  # car washing
    (C, "0305"): (2.5, 0.2),  # litter bin
    (C, "0118"): (2, 0.0),  # street lamp
    (C, "0402"): (1.5, 0.1),  # street tree
    (C, "0211"): (1, 0.0),  # road railing
}
_COVER_WEIGHT = 0.6  # components 0101-0113: the manhole covers
_EVENT_WEIGHT, _COMPONENT_WEIGHT, _EMERGENCY_WEIGHT = 0.6, 0.3, 0.08
_OTHER_SELF = 0.05

# Who reports what is not self-handled: inspectors most, then citizens and the hotline.
SOURCE_MIX: Sequence[tuple[Source, float]] = (
    (Source.INSPECTOR, 0.6),
    (Source.CITIZEN, 0.13),
    (Source.HOTLINE, 0.12),
    (Source.VIDEO, 0.1),
    (Source.MEDIA, 0.02),
)


def rhythm(hour: float) -> float:
    """Relative arrival rate at a local hour of day (mean 1 over the day)."""
    low = int(hour) % 24
    frac = hour - int(hour)
    high = (low + 1) % 24
    return (_HOURLY[low] * (1 - frac) + _HOURLY[high] * frac) / _MEAN


class Mix(Generic[T]):
    """A weighted choice that costs one random number and a bisection."""

    def __init__(self, weighted: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in weighted]
        self.cumulative = list(itertools.accumulate(weight for _, weight in weighted))

    def pick(self, rng: random.Random) -> T:
        """One item, drawn with probability proportional to its weight."""
        index = bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(index, len(self.items) - 1)]


def is_emergency_class(category: Category) -> bool:
    """Event major 04 (突发事件): collapses, bursts, fallen trees."""
    return category.kind is Kind.EVENT and category.major == "04"


def weight_and_self_share(category: Category) -> tuple[float, float]:
    """How often a category is reported, and the share fixed on the spot."""
    known = _MIX.get((category.kind, category.code))
    if known is not None:
        return known
    if is_emergency_class(category):
        return _EMERGENCY_WEIGHT, 0.0
    if category.kind is Kind.COMPONENT:
        is_cover = "0101" <= category.code <= "0113"
        return (_COVER_WEIGHT if is_cover else _COMPONENT_WEIGHT), 0.0
    return _EVENT_WEIGHT, _OTHER_SELF


def category_mix(catalogue: Catalogue) -> Mix[Category]:
    """The catalogue's categories weighted by how often they are reported."""
    categories = sorted(catalogue.categories.values(), key=lambda c: (c.kind, c.code))
    return Mix([(c, weight_and_self_share(c)[0]) for c in categories])


def urgency_for(category: Category, rng: random.Random) -> Urgency:
    """Most cases are normal; emergencies are mostly urgent or very urgent."""
    draw = rng.random()
    urgent, very = (0.5, 0.3) if is_emergency_class(category) else (0.07, 0.02)
    if draw < very:
        return Urgency.VERY_URGENT
    return Urgency.URGENT if draw < very + urgent else Urgency.NORMAL


class Outline:
    """A district outline (Polygon or MultiPolygon) with an even-odd point test."""

    def __init__(self, geometry: dict[str, Any]) -> None:
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        # Holes and islands alike: even-odd over every ring of every polygon.
        self.rings: list[Ring] = [
            [(float(x), float(y)) for x, y, *_ in ring] for polygon in polygons for ring in polygon
        ]
        xs = [x for ring in self.rings for x, _ in ring]
        ys = [y for ring in self.rings for _, y in ring]
        self.bbox = (min(xs), min(ys), max(xs), max(ys))
        # In square degrees: within one city the shrinking of a degree of longitude
        # towards the pole is nearly the same everywhere, so areas compare fairly.
        self.area = sum(_ring_area(p[0]) - sum(map(_ring_area, p[1:])) for p in polygons)

    @classmethod
    def of_bbox(cls, bbox: tuple[float, float, float, float]) -> Outline:
        """The rectangle of a bounding box [min_lon, min_lat, max_lon, max_lat]."""
        x1, y1, x2, y2 = bbox
        ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
        return cls({"type": "Polygon", "coordinates": [ring]})

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point lies inside (ray casting towards +lon)."""
        min_x, min_y, max_x, max_y = self.bbox
        if not (min_x <= lon <= max_x and min_y <= lat <= max_y):
            return False
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
                if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
        return inside

    def sample(self, rng: random.Random, tries: int = 1000) -> Point:
        """A uniform point inside, drawn in the bbox until one falls in."""
        min_x, min_y, max_x, max_y = self.bbox
        for _ in range(tries):
            point = (rng.uniform(min_x, max_x), rng.uniform(min_y, max_y))
            if self.contains(*point):
                return point
        raise ValueError(f"no point found inside an outline with bbox {self.bbox}")

    def near(self, rng: random.Random, centre: Point, spread: float, tries: int = 8) -> Point:
        """A point inside, scattered around `centre` (itself inside) by `spread` degrees."""
        for _ in range(tries):
            point = (rng.gauss(centre[0], spread), rng.gauss(centre[1], spread))
            if self.contains(*point):
                return point
        return centre


def _ring_area(ring: list[list[float]]) -> float:
    """The area a GeoJSON ring encloses (shoelace), whichever way it winds."""
    points = [(float(x), float(y)) for x, y, *_ in ring]
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs)) / 2


@dataclass(frozen=True)
class Place:
    """Where a case is: its unit grid and the areas above it (where the city has them),
    an address and a point."""

    grid: str | None
    district: str | None
    street: str | None
    address: str
    lon: float
    lat: float


@dataclass
class _Patch:
    """A piece of the city whose problems recur at a few spots: a unit grid, or, in a
    city without grids, a neighbourhood of a district or of the city centre."""

    grid: str | None
    district: str | None
    street: str | None
    address: str
    outline: Outline
    spots: list[Point]


# Degrees of scatter (about 1 km and 250 m): a street's grids cluster around it, and a
# grid's problems recur at a few spots, as hot spots do in a real city.
_GRID_SPREAD, _SPOT_SPREAD = 0.01, 0.0025
SPOTS_PER_GRID = 12
# Neighbourhoods per district without grids (New York's boroughs, Los Angeles's council
# districts: the city reports by position), spread over them by area.
PATCHES_PER_DISTRICT = 12
# A city with no districts at all: neighbourhoods around the centre of its bbox, within
# about a sixth of its size.
_CENTRE_SPREAD = 1 / 6
_CENTRE_PATCHES = 24


class CityMap:
    """Where reports come from: the city's unit grids, each with points inside its
    district's outline; districts without grids by neighbourhoods inside the outline;
    a city without districts around the centre of its bbox."""

    def __init__(self, catalogue: Catalogue, rng: random.Random) -> None:
        self.outlines = {
            f["properties"]["code"]: Outline(f["geometry"]) for f in catalogue.outlines["features"]
        }
        self.patches = [*self._grids(catalogue, rng), *self._open_districts(catalogue, rng)]
        if not self.patches:
            self.patches = list(self._around_centre(catalogue, rng))

    def _grids(self, catalogue: Catalogue, rng: random.Random) -> Iterator[_Patch]:
        for district in catalogue.districts.values():
            outline = self.outlines[district.code]
            for street in district.streets:
                centre = outline.sample(rng)
                for community in street.communities:
                    address = f"{district.name}{street.name}{community.name}"
                    for code in community.grids:
                        spot = outline.near(rng, centre, _GRID_SPREAD)
                        yield _Patch(code, district.code, street.code, address, outline, [spot])

    def _open_districts(self, catalogue: Catalogue, rng: random.Random) -> Iterator[_Patch]:
        """Neighbourhoods of the districts that have no grids, more in a larger one."""
        open_ = [d for d in catalogue.districts.values() if not _has_grids(d)]
        if not open_:
            return
        by_area = Mix([(d, self.outlines[d.code].area) for d in open_])
        for _ in range(PATCHES_PER_DISTRICT * len(open_)):
            district = by_area.pick(rng)
            outline = self.outlines[district.code]
            yield _Patch(None, district.code, None, district.name, outline, [outline.sample(rng)])

    def _around_centre(self, catalogue: Catalogue, rng: random.Random) -> Iterator[_Patch]:
        """Neighbourhoods around the city centre, inside its bbox."""
        box = Outline.of_bbox(catalogue.bbox)
        min_x, min_y, max_x, max_y = catalogue.bbox
        centre = ((min_x + max_x) / 2, (min_y + max_y) / 2)
        spread = min(max_x - min_x, max_y - min_y) * _CENTRE_SPREAD
        for _ in range(_CENTRE_PATCHES):
            spot = box.near(rng, centre, spread)
            yield _Patch(None, None, None, catalogue.city, box, [spot])

    def pick(self, rng: random.Random) -> Place:
        """A patch at random and a spot in it; spots are drawn until a patch has enough."""
        patch = self.patches[rng.randrange(len(self.patches))]
        if len(patch.spots) < SPOTS_PER_GRID:
            patch.spots.append(patch.outline.near(rng, patch.spots[0], _SPOT_SPREAD))
        lon, lat = patch.spots[rng.randrange(len(patch.spots))]
        return Place(patch.grid, patch.district, patch.street, patch.address, lon, lat)


def _has_grids(district: District) -> bool:
    return any(community.grids for street in district.streets for community in street.communities)
