"""A city's configuration: categories, responsible units, areas and their outlines.

A city's staff edit these files by hand (categories may instead come as a CSV
export), so everything is checked at load and refused with the file, the line and
the problem rather than failing later in the middle of a shift.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.domain.configfile import (
    ConfigError,
    Record,
    Seen,
    read_text,
    read_yaml,
    record,
    top_records,
)
from dashboard.domain.limits import Limit, LimitUnit
from dashboard.domain.places import LEVELS, Places
from streams.names import Kind, Urgency

_E = TypeVar("_E", bound=StrEnum)

DEFAULT_DIR = Path(__file__).parents[1] / "data" / "zhuhai"
CITY_FILE = "city.yaml"
UNITS_FILE = "units.yaml"
CATEGORIES_FILE = "categories.yaml"
CATEGORIES_CSV = "categories.csv"
AREAS_FILE = "areas.yaml"
OUTLINES_FILE = "districts.geojson"
# Optional: outlines of streets and grids place reports that carry only a position.
AREA_OUTLINE_FILES = {"street": "streets.geojson", "grid": "grids.geojson"}


class UnitKind(StrEnum):
    """What sort of body a responsible unit (责任单位) is."""

    DEPARTMENT = "department"
    COMPANY = "company"
    UTILITY = "utility"
    RELATED = "related"
    DISTRICT = "district"
    STREET = "street"


@dataclass(frozen=True)
class Unit:
    """A responsible unit that cases are dispatched to."""

    code: str
    name: str
    name_en: str
    kind: UnitKind


@dataclass(frozen=True)
class Category:
    """A minor class of components or events, with its handling limits."""

    kind: Kind
    code: str
    name: str
    name_en: str
    limit: Limit
    urgent_limit: Limit | None
    very_urgent_limit: Limit | None
    emergency: bool
    department: str

    @property
    def major(self) -> str:
        """The 2-digit major class the code starts with."""
        return self.code[:2]

    def limit_for(self, urgency: Urgency | str) -> Limit:
        """The limit at an urgency, falling back to the next less urgent one defined."""
        urgency = Urgency(urgency)
        if urgency is Urgency.VERY_URGENT and self.very_urgent_limit is not None:
            return self.very_urgent_limit
        if urgency is not Urgency.NORMAL and self.urgent_limit is not None:
            return self.urgent_limit
        return self.limit


@dataclass(frozen=True)
class Community:
    """A community (社区) and the 15-digit unit grids it is divided into."""

    code: str
    name: str
    name_en: str
    grids: tuple[str, ...]


@dataclass(frozen=True)
class Street:
    """A street office or town (街道/镇)."""

    code: str
    name: str
    name_en: str
    communities: tuple[Community, ...]


@dataclass(frozen=True)
class District:
    """A district, or a functional zone run like one."""

    code: str
    name: str
    name_en: str
    streets: tuple[Street, ...]


# eq=False: a catalogue is compared and hashed by identity, so it can key a cache.
@dataclass(frozen=True, eq=False)
class Catalogue:
    """Everything a city configures; built by load_catalogue."""

    city: str
    city_en: str
    timezone: str
    bbox: tuple[float, float, float, float]
    categories: Mapping[tuple[Kind, str], Category]
    majors: Mapping[tuple[Kind, str], str]
    units: Mapping[str, Unit]
    districts: Mapping[str, District]
    outlines: dict
    majors_en: Mapping[tuple[Kind, str], str] = field(default_factory=dict)
    # Street and grid outlines by code, where the city configures them.
    area_outlines: Mapping[str, Mapping[str, dict]] = field(default_factory=dict)
    _grids: Mapping[str, tuple[District, Street]] = field(init=False, repr=False, compare=False)
    _streets: Mapping[str, tuple[District, Street]] = field(init=False, repr=False, compare=False)
    _places: Places = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_grids", _index_grids(self.districts.values()))
        streets = {s.code: (d, s) for d in self.districts.values() for s in d.streets}
        object.__setattr__(self, "_streets", MappingProxyType(streets))
        districts = {f["properties"]["code"]: f["geometry"] for f in self.outlines["features"]}
        object.__setattr__(self, "_places", Places({"district": districts, **self.area_outlines}))

    def place(self, lon: float, lat: float, given: Mapping[str, Any]) -> dict[str, str | None]:
        """District, street and grid of a report: as given if known, from them, or located.

        A code the report names is kept only if the catalogue knows it (issue 20: a
        producer's unknown district must not become a ranking row of its own); a
        known grid names its street and district, a known street its district; the
        outlines place the rest. What nothing places stays None: unplaced, counted
        in the city's figures, never ranked. The report's own words stay in its
        history.
        """
        found = {level: self._known(level, given.get(level)) for level in LEVELS}
        if found["grid"] is not None:
            district, street = self._grids[found["grid"]]
            found["district"] = found["district"] or district.code
            found["street"] = found["street"] or street.code
        if found["street"] is not None:
            found["district"] = found["district"] or self._streets[found["street"]][0].code
        if not all(found.values()):
            located = self._places.locate(lon, lat)
            found = {level: code or located.get(level) for level, code in found.items()}
        return found

    def _known(self, level: str, code: Any) -> str | None:
        """The code if the catalogue has an area of that level by it, else None."""
        areas: Mapping[str, Any] = {"district": self.districts, "street": self._streets,
                                    "grid": self._grids}[level]  # fmt: skip
        return code if isinstance(code, str) and code in areas else None

    def street(self, code: str) -> Street | None:
        """A street or town by its code; None when the city has none such."""
        found = self._streets.get(code)
        return found[1] if found else None

    def category(self, kind: Kind | str, code: str) -> Category | None:
        """The category of a kind and code; None when the city has none such."""
        if kind not in set(Kind):
            return None
        return self.categories.get((Kind(kind), code))

    def district_of_grid(self, grid: str) -> District | None:
        """The district a unit grid lies in."""
        found = self._grids.get(grid)
        return found[0] if found else None

    def street_of_grid(self, grid: str) -> Street | None:
        """The street or town a unit grid lies in."""
        found = self._grids.get(grid)
        return found[1] if found else None


def _index_grids(districts: Any) -> Mapping[str, tuple[District, Street]]:
    """Grid code -> (district, street), so a report's grid places it at once."""
    return MappingProxyType(
        {
            grid: (district, street)
            for district in districts
            for street in district.streets
            for community in street.communities
            for grid in community.grids
        }
    )


def _digits(rec: Record, key: str, what: str, length: int, parent: str = "") -> str:
    """A code of `length` digits that starts with its parent's code."""
    code = rec.text(key)
    if not re.fullmatch(rf"\d{{{length}}}", code):
        rec.fail(f"{what} code '{code}' must be {length} digits", key)
    if not code.startswith(parent):
        rec.fail(f"{what} code '{code}' does not start with its parent's code {parent}", key)
    return code


# --- city ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    """What city.yaml says."""

    name: str
    name_en: str
    timezone: str
    bbox: tuple[float, float, float, float]


def _load_city(path: Path) -> _City:
    """Name, time zone and bounding box of the city."""
    rec = record(path.name, read_yaml(path), 1)
    rec.subject = "city"
    rec.only({"name", "name_en", "timezone", "bbox"})
    timezone = rec.text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        rec.fail(f"unknown time zone '{timezone}'", "timezone")
    name = rec.text("name")
    return _City(name, rec.text("name_en", name), timezone, _bbox(rec))


def _bbox(rec: Record) -> tuple[float, float, float, float]:
    """[min_lon, min_lat, max_lon, max_lat], in range and the right way round."""
    raw = rec.fields.get("bbox") or ()
    try:
        box = tuple(float(value) for value in raw)
    except (TypeError, ValueError):
        rec.fail("bbox must be four numbers [min_lon, min_lat, max_lon, max_lat]", "bbox")
    if len(box) != 4 or not -180 <= box[0] < box[2] <= 180 or not -90 <= box[1] < box[3] <= 90:
        rec.fail("bbox must be [min_lon, min_lat, max_lon, max_lat] with min < max", "bbox")
    return box[0], box[1], box[2], box[3]


# --- units ---------------------------------------------------------------------------


def _load_units(path: Path) -> dict[str, Unit]:
    """The responsible units, keyed by their short code."""
    units: dict[str, Unit] = {}
    seen = Seen()
    for rec in top_records(path, "units"):
        rec.subject = "unit"
        rec.only({"code", "name", "name_en", "kind"})
        code = rec.text("code")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
            rec.fail(f"unit code '{code}' must be lowercase ASCII letters, digits or _", "code")
        seen.add(rec, f"unit {code}", code)
        rec.subject = f"unit {code}"
        name = rec.text("name")
        units[code] = Unit(code, name, rec.text("name_en", name), _choice(rec, "kind", UnitKind))
    return units


def _choice(rec: Record, key: str, enum: type[_E], aliases: Mapping[str, _E] | None = None) -> _E:
    """A field holding one value of a str enum, or an alias of one."""
    value = rec.text(key)
    if aliases and value in aliases:
        return aliases[value]
    if value not in set(enum):
        choices = ", ".join(enum)
        rec.fail(f"{rec.subject} has unknown {key} '{value}' (one of {choices})", key)
    return enum(value)


# --- categories ----------------------------------------------------------------------

_GROUP_FIELDS = {"kind", "major", "name", "name_en", "minors"}
_MINOR_FIELDS = {
    *("code", "name", "name_en", "limit", "urgent", "very_urgent", "emergency", "department")
}
_CSV_REQUIRED = ("kind", "code", "name", "limit", "department", "major_name")
# Exports from Chinese systems name the kind in Chinese.
_KIND_ALIASES = {"部件": Kind.COMPONENT, "事件": Kind.EVENT}
_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否"}


@dataclass
class _Categories:
    """Categories and major class names as they are gathered."""

    by_key: dict[tuple[Kind, str], Category] = field(default_factory=dict)
    majors: dict[tuple[Kind, str], str] = field(default_factory=dict)
    majors_en: dict[tuple[Kind, str], str] = field(default_factory=dict)
    seen: Seen = field(default_factory=Seen)


def _load_categories(directory: Path, units: Mapping[str, Unit]) -> _Categories:
    """Categories from categories.yaml, or from categories.csv when a city exports one."""
    found = _Categories()
    for row in _category_rows(directory):
        _add_category(found, row, units)
    return found


def _category_rows(directory: Path) -> list[Record]:
    yaml_path, csv_path = directory / CATEGORIES_FILE, directory / CATEGORIES_CSV
    if yaml_path.exists() and csv_path.exists():
        # Silently preferring one would leave staff editing the file that is ignored.
        raise ConfigError(CATEGORIES_CSV, None, f"both it and {CATEGORIES_FILE} exist; keep one")
    return _csv_rows(csv_path) if csv_path.exists() else _yaml_rows(yaml_path)


def _yaml_rows(path: Path) -> list[Record]:
    """Flatten major class groups into one row per minor class, as in the CSV."""
    rows = []
    for group in top_records(path, "major classes"):
        group.subject = "major class"
        group.only(_GROUP_FIELDS)
        inherited = {"kind": "kind", "major": "major", "major_name": "name"}
        inherited |= {"major_name_en": "name_en"}
        for minor in group.children("minors"):
            minor.subject = "category"
            minor.only(_MINOR_FIELDS)
            for to, source in inherited.items():
                minor.fields[to] = group.fields.get(source)
                minor.lines[to] = group.lines.get(source, group.line)
            rows.append(minor)
    return rows


def _csv_rows(path: Path) -> list[Record]:
    """One record per CSV row; blank cells count as absent and extra columns are ignored."""
    reader = csv.DictReader(io.StringIO(read_text(path)))
    columns = {name.strip() for name in reader.fieldnames or ()}
    for name in _CSV_REQUIRED:
        if name not in columns:
            raise ConfigError(path.name, 1, f"missing column '{name}'")
    rows = []
    for row in reader:
        cells = {str(k).strip(): v.strip() for k, v in row.items() if isinstance(v, str)}
        fields: dict[str, Any] = {k: v for k, v in cells.items() if v}
        rows.append(Record(path.name, reader.line_num, fields))
    return rows


def _add_category(found: _Categories, row: Record, units: Mapping[str, Unit]) -> None:
    row.subject = "category"
    kind = _choice(row, "kind", Kind, _KIND_ALIASES)
    code = row.text("code")
    row.subject = f"category {kind} {code}"
    major = _category_code(row, code)
    found.seen.add(row, row.subject, (kind, code))
    _add_major(found, row, (kind, major))
    found.by_key[(kind, code)] = _category(row, kind, code, units)


def _category_code(row: Record, code: str) -> str:
    """Check a 4-digit code against its 2-digit major class; return the major."""
    if not re.fullmatch(r"\d{4}", code):
        row.fail(f"{row.subject}: code must be 4 digits (2 major + 2 minor)", "code")
    major = row.text("major", default=code[:2])
    if not re.fullmatch(r"\d{2}", major):
        row.fail(f"major class '{major}' must be 2 digits", "major")
    if code[:2] != major:
        row.fail(f"{row.subject} does not belong to its major class {major}", "code")
    return major


def _add_major(found: _Categories, row: Record, key: tuple[Kind, str]) -> None:
    """Record a major class name; every row of one major must agree on it."""
    name = row.text("major_name")
    if found.majors.setdefault(key, name) != name:
        row.fail(f"major class {key[0]} {key[1]} is named both '{found.majors[key]}' and '{name}'")
    found.majors_en.setdefault(key, row.text("major_name_en", name))


def _category(row: Record, kind: Kind, code: str, units: Mapping[str, Unit]) -> Category:
    department = row.text("department")
    if department not in units:
        row.fail(f"{row.subject} names unknown unit '{department}'", "department")
    limit = _limit(row, "limit")
    if limit is None:
        row.fail(f"{row.subject} lacks required field 'limit'", "limit")
    urgent, very_urgent = _limit(row, "urgent"), _limit(row, "very_urgent")
    _check_shortening(row, [limit, urgent, very_urgent])
    name = row.text("name")
    name_en = row.text("name_en", name)
    emergency = _flag(row, "emergency")
    return Category(kind, code, name, name_en, limit, urgent, very_urgent, emergency, department)


def _limit(row: Record, key: str) -> Limit | None:
    """Parse "4 working_hours" or {value: 4, unit: working_hours}; None if absent."""
    raw = row.fields.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, dict):
        raw = f"{raw.get('value')} {raw.get('unit')}"
    amount, _, unit = str(raw).strip().partition(" ")
    try:
        value = float(amount)
    except ValueError:
        row.fail(f"{row.subject} has unparseable {key} limit '{raw}'", key)
    if unit.strip() not in set(LimitUnit):
        units = ", ".join(LimitUnit)
        row.fail(f"{row.subject} {key} limit '{raw}' needs a unit: one of {units}", key)
    if not math.isfinite(value) or value <= 0:
        row.fail(f"{row.subject} {key} limit must be positive, got '{raw}'", key)
    return Limit(value, LimitUnit(unit.strip()))


def _check_shortening(row: Record, limits: list[Limit | None]) -> None:
    """More urgent limits may not be longer (compared only when counted alike)."""
    defined = [limit for limit in limits if limit is not None]
    for longer, shorter in zip(defined, defined[1:], strict=False):
        if longer.unit is shorter.unit and shorter.value > longer.value:
            row.fail(f"{row.subject}: a more urgent limit ({shorter}) exceeds {longer}")


def _flag(row: Record, key: str) -> bool:
    raw = row.fields.get(key, False)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in _TRUE | _FALSE:
        row.fail(f"{row.subject} field '{key}' must be true or false, not '{raw}'", key)
    return text in _TRUE


# --- areas ---------------------------------------------------------------------------


def _load_areas(path: Path) -> tuple[dict[str, District], dict[str, int]]:
    """Districts with their streets, communities and grids; also each district's line."""
    districts: dict[str, District] = {}
    lines: dict[str, int] = {}
    seen = Seen()
    for rec in top_records(path, "districts"):
        district = _district(rec, seen)
        districts[district.code], lines[district.code] = district, rec.line
    return districts, lines


def _area(rec: Record, what: str, length: int, parent: str, seen: Seen) -> tuple[str, str, str]:
    """Code, name and English name of an area at any level, checked."""
    rec.subject = what
    code = _digits(rec, "code", what, length, parent)
    rec.subject = f"{what} {code}"
    seen.add(rec, rec.subject, code)
    name = rec.text("name")
    return code, name, rec.text("name_en", name)


def _district(rec: Record, seen: Seen) -> District:
    rec.only({"code", "name", "name_en", "streets"})
    code, name, name_en = _area(rec, "district", 6, "", seen)
    streets = tuple(_street(child, code, seen) for child in rec.children("streets"))
    return District(code, name, name_en, streets)


def _street(rec: Record, district: str, seen: Seen) -> Street:
    rec.only({"code", "name", "name_en", "communities"})
    code, name, name_en = _area(rec, "street", 9, district, seen)
    communities = tuple(_community(child, code, seen) for child in rec.children("communities"))
    return Street(code, name, name_en, communities)


def _community(rec: Record, street: str, seen: Seen) -> Community:
    rec.only({"code", "name", "name_en", "grids"})
    code, name, name_en = _area(rec, "community", 12, street, seen)
    return Community(code, name, name_en, _grids(rec, code, seen))


def _grids(rec: Record, community: str, seen: Seen) -> tuple[str, ...]:
    """The 15-digit grid codes of a community: its code plus a 3-digit serial."""
    raw = rec.fields.get("grids")
    if not isinstance(raw, list):
        rec.fail(f"{rec.subject} needs a list under 'grids'", "grids")
    grids = []
    for item in raw:
        grid = str(item).strip()
        if not re.fullmatch(r"\d{15}", grid) or not grid.startswith(community):
            rec.fail(f"grid '{grid}' must be 15 digits starting with {community}", "grids")
        seen.add(rec, f"grid {grid}", grid, "grids")
        grids.append(grid)
    return tuple(grids)


# --- outlines ------------------------------------------------------------------------


def _load_outlines(
    path: Path, districts: Mapping[str, District], lines: Mapping[str, int], bbox: tuple
) -> dict:
    """The district outlines as a FeatureCollection, names taken from areas.yaml."""
    text = read_text(path)
    outlines: dict[str, dict] = {}
    for feature in _features(path.name, text):
        code = _outline(path.name, text, feature, districts, bbox)
        if code in outlines:
            raise ConfigError(path.name, _line_of(text, code, 2), f"two outlines for {code}")
        outlines[code] = feature["geometry"]
    for code in districts:
        if code not in outlines:
            raise ConfigError(AREAS_FILE, lines[code], f"district {code} has no outline")
    return {
        "type": "FeatureCollection",
        "features": [_feature(d, outlines) for d in districts.values()],
    }


def _features(file: str, text: str) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(file, error.lineno, f"invalid JSON: {error.msg}") from error
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ConfigError(file, 1, "expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise ConfigError(file, 1, "expected a list of features")
    return features


def _load_area_outlines(path: Path, known: Collection, what: str, bbox: tuple) -> dict[str, dict]:
    """Optional outlines of streets or grids, by code (none when the file is absent)."""
    if not path.exists():
        return {}
    text = read_text(path)
    found: dict[str, dict] = {}
    for feature in _features(path.name, text):
        code = _outline(path.name, text, feature, known, bbox, what)
        if code in found:
            raise ConfigError(path.name, _line_of(text, code, 2), f"two outlines for {code}")
        found[code] = feature["geometry"]
    return found


def _outline(
    file: str, text: str, feature: dict, known: Collection, bbox: tuple, what: str = "district"
) -> str:
    """Check one outline feature; return the code of the area it belongs to."""
    code = str((feature.get("properties") or {}).get("code", ""))
    line = _line_of(text, code) if code else None
    if code not in known:
        raise ConfigError(file, line, f"outline for unknown {what} '{code}'")
    geometry = feature.get("geometry") or {}
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ConfigError(file, line, f"outline of {code} must be a Polygon or MultiPolygon")
    positions = list(_positions(geometry.get("coordinates")))
    if len(positions) < 4:
        raise ConfigError(file, line, f"outline of {code} has no ring of coordinates")
    for lon, lat in positions:
        if not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
            raise ConfigError(
                file, line, f"outline of {code} leaves the city's bbox at {lon},{lat}"
            )
    return code


def _positions(coordinates: Any) -> Iterator[tuple[float, float]]:
    """Every [lon, lat] position in nested GeoJSON coordinates."""
    if not isinstance(coordinates, list):
        return
    if len(coordinates) >= 2 and all(isinstance(c, int | float) for c in coordinates[:2]):
        yield float(coordinates[0]), float(coordinates[1])
    else:
        for item in coordinates:
            yield from _positions(item)


def _line_of(text: str, code: str, nth: int = 1) -> int | None:
    """The line that quotes a code the nth time: JSON keeps no lines, a person needs one."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if f'"{code}"' in line]
    return lines[nth - 1] if len(lines) >= nth else None


def _feature(district: District, outlines: Mapping[str, dict]) -> dict:
    properties = {"code": district.code, "name": district.name, "name_en": district.name_en}
    return {"type": "Feature", "properties": properties, "geometry": outlines[district.code]}


# --- the catalogue -------------------------------------------------------------------


def load_catalogue(directory: Path | str | None = None) -> Catalogue:
    """Load and check a city's configuration (the default city when directory is None)."""
    root = Path(directory) if directory is not None else DEFAULT_DIR
    if not root.is_dir():
        raise ConfigError(str(root), None, "no such configuration directory")
    city = _load_city(root / CITY_FILE)
    units = _load_units(root / UNITS_FILE)
    categories = _load_categories(root, units)
    districts, lines = _load_areas(root / AREAS_FILE)
    outlines = _load_outlines(root / OUTLINES_FILE, districts, lines, city.bbox)
    areas = _area_codes(districts)
    area_outlines = {
        level: _load_area_outlines(root / name, areas[level], level, city.bbox)
        for level, name in AREA_OUTLINE_FILES.items()
    }
    return Catalogue(
        city=city.name,
        city_en=city.name_en,
        timezone=city.timezone,
        bbox=city.bbox,
        categories=MappingProxyType(categories.by_key),
        majors=MappingProxyType(categories.majors),
        units=MappingProxyType(units),
        districts=MappingProxyType(districts),
        outlines=outlines,
        majors_en=MappingProxyType(categories.majors_en),
        area_outlines=MappingProxyType({k: v for k, v in area_outlines.items() if v}),
    )


def _area_codes(districts: Mapping[str, District]) -> dict[str, set[str]]:
    """The codes of the streets and grids, by level."""
    streets = [street for district in districts.values() for street in district.streets]
    grids = {grid for street in streets for c in street.communities for grid in c.grids}
    return {"street": {street.code for street in streets}, "grid": grids}
