"""The city catalogue: the default city's content and the checks made at load."""

import json
import re
import shutil
from pathlib import Path

import pytest

from dashboard.domain.catalogue import (
    DEFAULT_DIR,
    Catalogue,
    Category,
    ConfigError,
    UnitKind,
    load_catalogue,
)
from dashboard.domain.limits import Limit, LimitUnit
from streams.names import Kind, Urgency

H = LimitUnit.NATURAL_HOURS
WH = LimitUnit.WORKING_HOURS
WD = LimitUnit.WORKING_DAYS


@pytest.fixture(scope="module")
def zhuhai() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A copy of the default city that a test may break."""
    return Path(shutil.copytree(DEFAULT_DIR, tmp_path / "city"))


def edit(path: Path, line_with: str, old: str, new: str) -> int:
    """In the one line equal to or holding `line_with`, replace old by new; return its number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = [n for n, line in enumerate(lines) if line.strip() == line_with]
    found = found or [n for n, line in enumerate(lines) if line_with in line]
    assert len(found) == 1, f"{line_with!r} is on {len(found)} lines of {path.name}"
    assert old in lines[found[0]], f"{old!r} is not on the line holding {line_with!r}"
    lines[found[0]] = lines[found[0]].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")
    return found[0] + 1


def refused(directory: Path, file: str, line: int | None, problem: str) -> None:
    """Loading must fail, naming the file, the line and (a regex of) the problem."""
    with pytest.raises(ConfigError) as caught:
        load_catalogue(directory)
    where = f"{file} line {line}: " if line else f"{file}: "
    assert str(caught.value).startswith(where), str(caught.value)
    assert re.search(problem, str(caught.value)), str(caught.value)


def category(**overrides: object) -> Category:
    fields: dict = dict(
        kind=Kind.EVENT,
        code="0102",
        name="暴露垃圾",
        name_en="Exposed garbage",
        limit=Limit(4, WH),
        urgent_limit=None,
        very_urgent_limit=None,
        emergency=False,
        department="sanitation",
    )
    return Category(**(fields | overrides))


CSV_COLUMNS = "kind major major_name major_name_en code name name_en limit urgent very_urgent"
CSV_HEADER = ",".join([*CSV_COLUMNS.split(), "emergency", "department"]) + "\n"


# --- the default city -----------------------------------------------------------------


def test_default_city_is_zhuhai_on_shanghai_time(zhuhai: Catalogue) -> None:
    """The default configuration is Zhuhai, in the Asia/Shanghai time zone."""
    assert (zhuhai.city, zhuhai.city_en, zhuhai.timezone) == ("珠海", "Zhuhai", "Asia/Shanghai")


def test_default_bbox_covers_real_zhuhai(zhuhai: Catalogue) -> None:
    """The bounding box holds the mainland and the Wanshan islands."""
    min_lon, min_lat, max_lon, max_lat = zhuhai.bbox
    assert min_lon <= 113.1 and max_lon >= 114.3 and min_lat <= 21.8 and max_lat >= 22.44


def test_default_has_at_least_80_categories_of_both_kinds(zhuhai: Catalogue) -> None:
    """At least 80 minor classes, components and events both present."""
    kinds = [kind for kind, _ in zhuhai.categories]
    assert len(kinds) >= 80
    assert kinds.count(Kind.COMPONENT) >= 30 and kinds.count(Kind.EVENT) >= 30


def test_default_covers_every_major_class_of_the_domain(zhuhai: Catalogue) -> None:
    """Component majors 01-06 and event majors 01-05 and 99 all have names and minors."""
    components = {(Kind.COMPONENT, f"{n:02d}") for n in range(1, 7)}
    events = {(Kind.EVENT, f"{n:02d}") for n in (1, 2, 3, 4, 5, 99)}
    assert set(zhuhai.majors) == components | events
    assert {(c.kind, c.major) for c in zhuhai.categories.values()} == components | events


def test_default_keys_component_and_event_codes_apart(zhuhai: Catalogue) -> None:
    """Component 0101 is a manhole cover and event 0101 an illegal structure."""
    assert zhuhai.categories[(Kind.COMPONENT, "0101")].name == "上水井盖"
    assert zhuhai.categories[(Kind.EVENT, "0101")].name == "私搭乱建"


def test_default_every_category_names_a_known_unit(zhuhai: Catalogue) -> None:
    """Every category's default department is one of the city's units."""
    assert all(c.department in zhuhai.units for c in zhuhai.categories.values())


@pytest.mark.parametrize(
    ("kind", "code", "limit"),
    [
        (Kind.EVENT, "0102", Limit(4, WH)),  # exposed garbage
        (Kind.EVENT, "0104", Limit(5, WH)),  # dirty road
        (Kind.EVENT, "0406", Limit(4, WH)),  # road ponding
        (Kind.EVENT, "0101", Limit(15, WD)),  # illegal structure
        (Kind.EVENT, "0510", Limit(2, H)),  # outdoor barbecue
        (Kind.EVENT, "0405", Limit(6, H)),  # fallen tree
        (Kind.COMPONENT, "0118", Limit(1, WD)),  # street lamp
    ],
)
def test_default_limits_follow_the_domain(
    zhuhai: Catalogue, kind: Kind, code: str, limit: Limit
) -> None:
    """The limits DOMAIN.md gives are the default limits."""
    assert zhuhai.categories[(kind, code)].limit == limit


def test_default_missing_sewage_cover_is_urgent_within_two_hours(zhuhai: Catalogue) -> None:
    """A missing sewage cover, filed as urgent, gets 2 natural hours."""
    cover = zhuhai.categories[(Kind.COMPONENT, "0102")]
    assert cover.limit_for(Urgency.URGENT) == Limit(2, H)


@pytest.mark.parametrize(
    ("kind", "code"),
    [(Kind.EVENT, "0405"), (Kind.EVENT, "0406"), (Kind.EVENT, "0404"), (Kind.EVENT, "0207")]
    + [(Kind.EVENT, "0307"), (Kind.COMPONENT, "0102"), (Kind.COMPONENT, "0402")],
)
def test_default_typhoon_classes_are_emergency(zhuhai: Catalogue, kind: Kind, code: str) -> None:
    """Fallen trees, ponding, blocked drains, signboards, hoardings and covers are emergency."""
    assert zhuhai.categories[(kind, code)].emergency


def test_default_ordinary_classes_are_not_emergency(zhuhai: Catalogue) -> None:
    """Everyday classes such as illegal parking are not emergency classes."""
    assert not zhuhai.categories[(Kind.EVENT, "0505")].emergency


def test_default_has_30_to_40_units_including_the_districts(zhuhai: Catalogue) -> None:
    """Between 30 and 40 units, the district governments among them."""
    assert 30 <= len(zhuhai.units) <= 40
    assert sum(u.kind is UnitKind.DISTRICT for u in zhuhai.units.values()) == 8


def test_default_has_eight_districts_with_two_to_six_streets(zhuhai: Catalogue) -> None:
    """Eight districts or zones, each with 2-6 streets of 2-4 communities."""
    assert len(zhuhai.districts) == 8
    for district in zhuhai.districts.values():
        assert 2 <= len(district.streets) <= 6
        assert all(2 <= len(street.communities) <= 4 for street in district.streets)


def test_default_every_district_has_an_outline(zhuhai: Catalogue) -> None:
    """One outline feature per district, carrying its code and names."""
    properties = [f["properties"] for f in zhuhai.outlines["features"]]
    expected = [
        {"code": d.code, "name": d.name, "name_en": d.name_en} for d in zhuhai.districts.values()
    ]
    assert zhuhai.outlines["type"] == "FeatureCollection" and properties == expected


def test_default_outlines_are_simplified_polygons(zhuhai: Catalogue) -> None:
    """Each outline is one polygon of 20-60 vertices."""
    for feature in zhuhai.outlines["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        assert 20 <= len(feature["geometry"]["coordinates"][0]) - 1 <= 60


def test_default_grids_are_unique_15_digit_codes_of_their_community(zhuhai: Catalogue) -> None:
    """Grid codes are 15 digits, start with their community's code and never repeat."""
    grids = [
        (community.code, grid)
        for district in zhuhai.districts.values()
        for street in district.streets
        for community in street.communities
        for grid in community.grids
    ]
    assert all(re.fullmatch(r"\d{15}", grid) and grid.startswith(c) for c, grid in grids)
    assert len({grid for _, grid in grids}) == len(grids) >= 100


# --- lookups --------------------------------------------------------------------------


def test_limit_for_normal_is_the_limit() -> None:
    """A normal case gets the category's limit."""
    assert category(urgent_limit=Limit(2, WH)).limit_for(Urgency.NORMAL) == Limit(4, WH)


def test_limit_for_very_urgent_uses_its_own_limit() -> None:
    """A very urgent case gets the very urgent limit when one is defined."""
    found = category(urgent_limit=Limit(2, WH), very_urgent_limit=Limit(1, H))
    assert found.limit_for(Urgency.VERY_URGENT) == Limit(1, H)


def test_limit_for_very_urgent_falls_back_to_urgent() -> None:
    """Without a very urgent limit, a very urgent case gets the urgent one."""
    found = category(urgent_limit=Limit(2, WH))
    assert found.limit_for(Urgency.VERY_URGENT) == Limit(2, WH)


def test_limit_for_falls_back_to_the_normal_limit() -> None:
    """Without urgent limits, urgent and very urgent cases get the normal limit."""
    found = category()
    assert found.limit_for("urgent") == found.limit_for(Urgency.VERY_URGENT) == Limit(4, WH)


def test_category_lookup_takes_the_kind_as_text(zhuhai: Catalogue) -> None:
    """category() accepts the kind as the text a stream event carries."""
    assert zhuhai.category("event", "0102") is zhuhai.categories[(Kind.EVENT, "0102")]


def test_category_lookup_of_unknown_kind_or_code_is_none(zhuhai: Catalogue) -> None:
    """Unknown kinds and codes give None rather than an error."""
    assert zhuhai.category("incident", "0102") is None
    assert zhuhai.category(Kind.EVENT, "0199") is None


def test_grid_lookup_finds_its_district_and_street(zhuhai: Catalogue) -> None:
    """A grid code leads to the district and street it lies in."""
    assert zhuhai.district_of_grid("440402001001001").name == "香洲区"  # type: ignore[union-attr]
    assert zhuhai.street_of_grid("440402001001001").name == "拱北街道"  # type: ignore[union-attr]


def test_a_position_alone_is_placed_in_its_district(zhuhai: Catalogue) -> None:
    """A report with only lon/lat gets the district whose outline covers it."""
    assert zhuhai.place(113.55, 22.25, {})["district"] == "440402"  # Xiangzhou
    assert zhuhai.place(113.30, 22.20, {})["district"] == "440403"  # Doumen


def test_a_position_outside_every_outline_stays_unplaced(zhuhai: Catalogue) -> None:
    """A point in the sea off the city has no district."""
    assert zhuhai.place(114.5, 21.5, {}) == {"district": None, "street": None, "grid": None}


def test_what_a_report_names_wins_and_a_grid_names_the_rest(zhuhai: Catalogue) -> None:
    """A named district is kept; a known grid gives its street and district."""
    assert zhuhai.place(113.55, 22.25, {"district": "440403"})["district"] == "440403"
    placed = zhuhai.place(113.30, 22.20, {"grid": "440402001001001"})
    assert placed == {"district": "440402", "street": "440402001", "grid": "440402001001001"}


def test_street_outlines_place_streets_when_configured(city: Path) -> None:
    """With a streets.geojson, a position alone also gets its street."""
    square = [[[113.54, 22.24], [113.56, 22.24], [113.56, 22.26], [113.54, 22.26], [113.54, 22.24]]]
    feature = {"type": "Feature", "properties": {"code": "440402001"},
               "geometry": {"type": "Polygon", "coordinates": square}}  # fmt: skip
    outlines = {"type": "FeatureCollection", "features": [feature]}
    (city / "streets.geojson").write_text(json.dumps(outlines))
    placed = load_catalogue(city).place(113.55, 22.25, {})
    assert placed["street"] == "440402001" and placed["district"] == "440402"
    assert load_catalogue(city).place(113.30, 22.20, {})["street"] is None


def test_refuses_a_street_outline_of_an_unknown_street(city: Path) -> None:
    """An outline naming no configured street stops start-up with its file."""
    feature = {"type": "Feature", "properties": {"code": "440402999"},
               "geometry": {"type": "Polygon", "coordinates": [[[113.5, 22.2]] * 4]}}  # fmt: skip
    (city / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                      "features": [feature]}))  # fmt: skip
    with pytest.raises(ConfigError, match="streets.geojson.*unknown street '440402999'"):
        load_catalogue(city)


def test_grid_lookup_of_unknown_grid_is_none(zhuhai: Catalogue) -> None:
    """An unknown grid has no district or street."""
    assert zhuhai.district_of_grid("440402999999999") is None
    assert zhuhai.street_of_grid("nonsense") is None


def test_load_reads_the_files_afresh_each_time(city: Path) -> None:
    """Nothing is cached between loads: an edited file is seen at the next load."""
    load_catalogue(city)
    edit(city / "city.yaml", "name_en:", "Zhuhai", "Zhuhai City")
    assert load_catalogue(city).city_en == "Zhuhai City"


# --- refusals -------------------------------------------------------------------------

CATEGORIES, UNITS, AREAS, OUTLINES = (
    "categories.yaml",
    "units.yaml",
    "areas.yaml",
    "districts.geojson",
)


def test_refuses_a_category_naming_an_unknown_unit(city: Path) -> None:
    """A category's department must be a known unit."""
    line = edit(city / CATEGORIES, "暴露垃圾", "department: sanitation", "department: xyz")
    refused(city, CATEGORIES, line, "category event 0102 names unknown unit 'xyz'")


def test_refuses_a_duplicate_category(city: Path) -> None:
    """Two minors of one kind may not share a code."""
    line = edit(city / CATEGORIES, "积存垃圾渣土", "code: 0103", "code: 0102")
    refused(city, CATEGORIES, line, rf"duplicate category event 0102 \(first on line {line - 1}\)")


def test_refuses_a_category_code_that_is_not_4_digits(city: Path) -> None:
    """Category codes are a 2-digit major and a 2-digit minor."""
    line = edit(city / CATEGORIES, "道路不洁", "code: 0104", "code: 014")
    refused(city, CATEGORIES, line, "code must be 4 digits")


def test_refuses_a_category_outside_its_major_class(city: Path) -> None:
    """A minor's code must start with its major class."""
    line = edit(city / CATEGORIES, "道路不洁", "code: 0104", "code: 0204")
    refused(city, CATEGORIES, line, "category event 0204 does not belong to its major class 01")


@pytest.mark.parametrize(
    ("limit", "problem"),
    [
        ("-5 working_hours", "must be positive"),
        ("0 working_hours", "must be positive"),
        ("five working_hours", "unparseable"),
        ("5 fortnights", "needs a unit"),
        ("5", "needs a unit"),
    ],
)
def test_refuses_a_bad_limit(city: Path, limit: str, problem: str) -> None:
    """Limits are a positive amount with a known unit."""
    line = edit(city / CATEGORIES, "道路不洁", "limit: 5 working_hours", f"limit: {limit}")
    refused(city, CATEGORIES, line, f"category event 0104 .*{problem}")


def test_refuses_a_more_urgent_limit_that_is_longer(city: Path) -> None:
    """An urgent limit longer than the normal one is a mistake."""
    line = edit(city / CATEGORIES, "道路不洁", "urgent: 2 working_hours", "urgent: 8 working_hours")
    refused(city, CATEGORIES, line, r"a more urgent limit \(8 working_hours\) exceeds")


def test_refuses_a_category_without_a_limit(city: Path) -> None:
    """The limit is a required field."""
    line = edit(city / CATEGORIES, "道路不洁", "limit: 5 working_hours, ", "")
    refused(city, CATEGORIES, line, "category event 0104 lacks required field 'limit'")


def test_refuses_a_misspelt_field(city: Path) -> None:
    """An unknown field is refused rather than silently ignored."""
    line = edit(city / CATEGORIES, "道路不洁", "urgent:", "urgnet:")
    refused(city, CATEGORIES, line, "has unknown field 'urgnet'")


def test_refuses_a_non_boolean_emergency_flag(city: Path) -> None:
    """emergency must be true or false."""
    line = edit(city / CATEGORIES, "道路不洁", "limit:", "emergency: typhoon, limit:")
    refused(city, CATEGORIES, line, "field 'emergency' must be true or false")


def test_refuses_an_unknown_unit_kind(city: Path) -> None:
    """Unit kinds are department, company, utility, related, district or street."""
    line = edit(city / UNITS, "code: gas,", "kind: company", "kind: contractor")
    refused(city, UNITS, line, "unit gas has unknown kind 'contractor'")


def test_refuses_a_duplicate_unit(city: Path) -> None:
    """Two units may not share a code."""
    line = edit(city / UNITS, "code: post,", "code: post,", "code: telecom,")
    refused(city, UNITS, line, r"duplicate unit telecom \(first on line \d+\)")


def test_refuses_a_unit_without_a_name(city: Path) -> None:
    """name is a required field of a unit."""
    line = edit(city / UNITS, "code: post,", "name: 中国邮政珠海分公司, ", "")
    refused(city, UNITS, line, "unit post lacks required field 'name'")


def test_refuses_a_unit_code_that_is_not_short_ascii(city: Path) -> None:
    """Unit codes are lowercase ASCII, as stream events carry them."""
    line = edit(city / UNITS, "code: post,", "code: post,", "code: 邮政,")
    refused(city, UNITS, line, "unit code '邮政' must be lowercase ASCII")


def test_refuses_a_duplicate_district(city: Path) -> None:
    """Two districts may not share a code."""
    line = edit(city / AREAS, "- code: 440403", "440403", "440402")
    refused(city, AREAS, line, r"duplicate district 440402 \(first on line \d+\)")


def test_refuses_a_duplicate_street(city: Path) -> None:
    """Two streets may not share a code."""
    line = edit(city / AREAS, "- code: 440402002", "440402002", "440402001")
    refused(city, AREAS, line, "duplicate street 440402001")


def test_refuses_a_duplicate_grid(city: Path) -> None:
    """A grid code may appear only once in the city."""
    line = edit(city / AREAS, "[440402001003001,", "[", "[440402001003001, ")
    refused(city, AREAS, line, "duplicate grid 440402001003001")


def test_refuses_a_grid_that_is_not_15_digits(city: Path) -> None:
    """Grid codes are 15 digits."""
    line = edit(city / AREAS, "[440402001003001,", "440402001003001", "44040200100301")
    refused(city, AREAS, line, "grid '44040200100301' must be 15 digits")


def test_refuses_a_grid_outside_its_community(city: Path) -> None:
    """A grid code starts with the code of the community it belongs to."""
    line = edit(city / AREAS, "[440402001003001,", "440402001003001", "440402001004009")
    refused(
        city, AREAS, line, "grid '440402001004009' must be 15 digits starting with 440402001003"
    )


def test_refuses_a_street_outside_its_district(city: Path) -> None:
    """A street code starts with its district's code."""
    line = edit(city / AREAS, "- code: 440402002", "440402002", "440403009")
    refused(
        city, AREAS, line, "street code '440403009' does not start with its parent's code 440402"
    )


def test_refuses_a_missing_outline(city: Path) -> None:
    """A district without an outline is named at its line in areas.yaml."""
    path = city / AREAS
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "- {code: 440499, name: 测试区, streets: []}\n", encoding="utf-8")
    refused(city, AREAS, text.count("\n") + 1, "district 440499 has no outline")


def test_refuses_two_outlines_for_one_district(city: Path) -> None:
    """A district has one outline; the second one is named."""
    line = edit(city / OUTLINES, '"code": "440495"', "440495", "440402")
    refused(city, OUTLINES, line, "two outlines for 440402")


def test_refuses_an_outline_of_an_unknown_district(city: Path) -> None:
    """An outline must belong to a district of areas.yaml."""
    line = edit(city / OUTLINES, '"code": "440495"', "440495", "449999")
    refused(city, OUTLINES, line, "outline for unknown district '449999'")


def test_refuses_an_outline_outside_the_bbox(city: Path) -> None:
    """Outlines lie inside the city's bounding box, which catches swapped lon/lat."""
    edit(city / "city.yaml", "bbox: [113", "114.35", "114.0")
    line = edit(city / OUTLINES, '"code": "440494"', "440494", "440494")
    refused(city, OUTLINES, line, "outline of 440494 leaves the city's bbox")


def test_refuses_an_unknown_time_zone(city: Path) -> None:
    """The time zone must be one the system knows."""
    line = edit(city / "city.yaml", "timezone:", "Asia/Shanghai", "Asia/Zhuhai")
    refused(city, "city.yaml", line, "unknown time zone 'Asia/Zhuhai'")


def test_refuses_a_bbox_the_wrong_way_round(city: Path) -> None:
    """bbox is [min_lon, min_lat, max_lon, max_lat]."""
    line = edit(city / "city.yaml", "bbox: [113", "[113.03, 21.78,", "[21.78, 113.03,")
    refused(city, "city.yaml", line, "bbox must be")


def test_refuses_invalid_yaml_at_its_line(city: Path) -> None:
    """A YAML syntax error is reported at its line."""
    line = edit(city / UNITS, "code: post,", "{code: post,", "{code: [post,")
    refused(city, UNITS, line, "invalid YAML")


def test_refuses_a_key_given_twice(city: Path) -> None:
    """A key given twice in one mapping is refused, not silently overwritten."""
    line = edit(city / UNITS, "code: post,", "{code: post,", "{code: post, code: mail,")
    refused(city, UNITS, line, "duplicate or non-text key 'code'")


def test_refuses_a_missing_file(city: Path) -> None:
    """A missing file is named."""
    (city / UNITS).unlink()
    refused(city, UNITS, None, "cannot be read")


# --- categories as CSV ----------------------------------------------------------------


def write_csv(city: Path, rows: str, encoding: str = "utf-8") -> Path:
    """Replace the city's categories.yaml by a categories.csv."""
    (city / "categories.yaml").unlink()
    path = city / "categories.csv"
    path.write_text(CSV_HEADER + rows, encoding=encoding)
    return path


def test_csv_categories_replace_the_yaml(city: Path) -> None:
    """A categories.csv export is read with the same columns, one row per minor."""
    write_csv(
        city,
        "event,01,市容环境,City appearance,0102,暴露垃圾,Exposed garbage,"
        "4 working_hours,2 working_hours,,,sanitation\n"
        "component,01,公用设施,Public utilities,0102,污水井盖,Sewage cover,"
        "1 working_days,2 natural_hours,1 natural_hours,true,drainage\n",
    )
    loaded = load_catalogue(city)
    assert set(loaded.categories) == {(Kind.EVENT, "0102"), (Kind.COMPONENT, "0102")}
    cover = loaded.categories[(Kind.COMPONENT, "0102")]
    assert cover.emergency and cover.limit_for(Urgency.VERY_URGENT) == Limit(1, H)
    assert loaded.majors[(Kind.EVENT, "01")] == "市容环境"


def test_csv_categories_may_be_a_gb18030_export(city: Path) -> None:
    """A spreadsheet export in GB18030, with Chinese kinds, is read too."""
    write_csv(city, "事件,01,市容环境,,0102,暴露垃圾,,4 working_hours,,,否,sanitation\n", "gb18030")
    found = load_catalogue(city).categories[(Kind.EVENT, "0102")]
    assert (found.name, found.name_en, found.emergency) == ("暴露垃圾", "暴露垃圾", False)


def test_csv_refusal_names_the_row_line(city: Path) -> None:
    """A bad CSV row is named by its line in the file."""
    write_csv(
        city,
        "event,01,市容环境,,0102,暴露垃圾,,4 working_hours,,,,sanitation\n"
        "event,01,市容环境,,0104,道路不洁,,5 working_hours,,,,xyz\n",
    )
    refused(city, "categories.csv", 3, "category event 0104 names unknown unit 'xyz'")


def test_csv_refuses_a_missing_column(city: Path) -> None:
    """A CSV without a required column is refused at its header."""
    (city / "categories.yaml").unlink()
    (city / "categories.csv").write_text(
        "kind,code,name,limit\nevent,0102,暴露垃圾,4 working_hours\n"
    )
    refused(city, "categories.csv", 1, "missing column 'department'")


def test_refuses_both_csv_and_yaml_categories(city: Path) -> None:
    """With both files present it is unclear which one staff meant."""
    (city / "categories.csv").write_text(CSV_HEADER)
    refused(city, "categories.csv", None, "both it and categories.yaml exist")
