"""The city simulator: valid, workflow-accepted events with a realistic shape."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from dashboard.domain.catalogue import DEFAULT_DIR
from dashboard.domain.city import city_rules
from dashboard.domain.lifecycle import Rules, apply
from dashboard.settings import Settings
from dashboard.sim.simcity import Outline, rhythm
from dashboard.sim.simulator import CitySimulator, SimulatorConfig
from dashboard.store.models import Case
from streams.names import CaseState, EventType, Source
from streams.producer import Producer
from streams.schema import validate

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday: the day's rhythm and office hours both apply.
MIDNIGHT = datetime(2025, 3, 4, tzinfo=SHANGHAI)
DAY = timedelta(hours=24)
SEED = 20250304
# Every city the project ships: the demo must play each of them.
SHIPPED = sorted(path for path in DEFAULT_DIR.parent.iterdir() if path.is_dir())

Events = list[dict[str, Any]]


def simulator(rules: Rules, start: datetime, **config: Any) -> CitySimulator:
    """A seeded simulator of the test city, on the workflow's own calendar."""
    settings = SimulatorConfig(**{"seed": SEED, "rate": 0.3, **config})
    return CitySimulator(rules.catalogue, rules.calendar, settings, start=start)


def fold(events: Events, rules: Rules) -> dict[str, Case]:
    """Every case's state after the events, through the workflow."""
    cases: dict[str, Case] = {}
    for body in events:
        event = validate(body)
        assert event.case_id is not None
        cases[event.case_id] = apply(cases.get(event.case_id), event, rules, new_case=Case)
    return cases


def local(event: dict[str, Any]) -> datetime:
    """An event's `at` on the Shanghai wall clock."""
    return datetime.fromisoformat(event["at"]).astimezone(SHANGHAI)


@pytest.fixture(scope="module")
def day(rules: Rules) -> Events:
    """All events of 24 simulated hours from a Tuesday midnight, no backfill."""
    return simulator(rules, MIDNIGHT, backfill_hours=0).due(MIDNIGHT + DAY)


@pytest.fixture(scope="module")
def cases(day: Events, rules: Rules) -> dict[str, Case]:
    """The day's cases as the workflow sees them at its end."""
    return fold(day, rules)


def share(cases: dict[str, Case], holds: Any) -> float:
    """The share of cases for which `holds(case)` is true."""
    return sum(1 for case in cases.values() if holds(case)) / len(cases)


def test_backfilled_events_all_meet_the_contract(rules: Rules) -> None:
    """With a fixed seed, every backfilled event passes schema validation."""
    events = simulator(rules, MIDNIGHT + timedelta(hours=16)).backfill()
    assert len(events) > 500
    for event in events:
        validate(event)


def test_the_workflow_accepts_every_event_of_a_day(day: Events, rules: Rules) -> None:
    """Folding a whole day through lifecycle.apply raises no TransitionError."""
    assert len(fold(day, rules)) > 1000


def test_about_a_tenth_of_dispatched_cases_run_overdue(
    cases: dict[str, Case], rules: Rules
) -> None:
    """Of dispatched cases whose deadline has come, 5-20% were late or are still open."""
    end = MIDNIGHT + DAY
    due = [c for c in cases.values() if c.deadline is not None and c.deadline <= end]
    late = [c for c in due if c.state != CaseState.CLOSED or not c.closed_on_time]
    assert len(due) > 300
    assert 0.05 <= len(late) / len(due) <= 0.20


def test_self_handled_share_is_between_30_and_45_percent(cases: dict[str, Case]) -> None:
    """Reports fixed on the spot (source self) are 30-45% of all cases."""
    assert 0.30 <= share(cases, lambda c: c.source == Source.SELF) <= 0.45


def test_rejected_share_is_about_5_percent(cases: dict[str, Case]) -> None:
    """About 5% of cases are not filed (不予立案)."""
    assert 0.03 <= share(cases, lambda c: c.state == CaseState.REJECTED) <= 0.08


def test_inspectors_report_most_cases_that_are_not_self_handled(cases: dict[str, Case]) -> None:
    """Inspectors bring about 60% of the other reports; the media only a few."""
    sources = Counter(c.source for c in cases.values() if c.source != Source.SELF)
    total = sum(sources.values())
    assert 0.5 <= sources[Source.INSPECTOR] / total <= 0.7
    assert sources[Source.MEDIA] / total <= 0.05


def test_events_are_in_time_order(day: Events) -> None:
    """`at` never goes backwards along the stream."""
    times = [datetime.fromisoformat(event["at"]) for event in day]
    assert all(a <= b for a, b in zip(times, times[1:], strict=False))


def test_nights_bring_fewer_reports_than_mid_mornings(day: Events) -> None:
    """Fewer cases arrive 02:00-05:00 than 09:00-11:00."""
    hours = Counter(local(e).hour for e in day if e["type"] == EventType.REPORTED)
    night = sum(hours[h] for h in (2, 3, 4))
    morning = sum(hours[h] for h in (9, 10))
    assert night * 3 < morning


def test_due_never_repeats_an_event_nor_returns_one_from_the_future(rules: Rules) -> None:
    """Polled at uneven steps, due() gives each event once and none after `until`."""
    sim = simulator(rules, MIDNIGHT + timedelta(hours=9), backfill_hours=1)
    seen: set[str] = set()
    until = sim.start
    for step in (0, 1, 7, 60, 1, 600, 3600, 0, 30, 7200):
        until += timedelta(seconds=step)
        for event in sim.due(until):
            assert datetime.fromisoformat(event["at"]) <= until
            assert event["event_id"] not in seen
            seen.add(event["event_id"])
    assert len(seen) > 100


def test_backfill_is_in_the_past_and_later_steps_stay_scheduled(rules: Rules) -> None:
    """Backfilled events precede start; their cases' next steps come from due() later."""
    start = MIDNIGHT + timedelta(hours=15)
    sim = simulator(rules, start)
    backfilled = sim.backfill()
    assert all(datetime.fromisoformat(e["at"]) <= start for e in backfilled)
    open_before = {e["case_id"] for e in backfilled}
    later = sim.due(start + timedelta(hours=1))
    assert any(e["case_id"] in open_before and e["type"] != EventType.REPORTED for e in later)


def test_arrivals_scale_with_the_rate(rules: Rules) -> None:
    """At 2000 events/s, reports arrive at the rate's share of cases, on the rhythm."""
    start = MIDNIGHT + timedelta(hours=10)
    sim = simulator(rules, start, rate=2000, backfill_hours=0)
    seconds = 5
    reports = [
        e for e in sim.due(start + timedelta(seconds=seconds)) if e["type"] == EventType.REPORTED
    ]
    expected = sim.case_rate * rhythm(10) * seconds
    assert 0.85 * expected <= len(reports) <= 1.15 * expected


def test_case_ids_read_as_kind_category_date_serial(day: Events) -> None:
    """Case ids look like E0102 + yyyymmdd + serial, plus the run's tag."""
    for event in day:
        if event["type"] == EventType.REPORTED:
            prefix = "E" if event["kind"] == "event" else "C"
            pattern = rf"{prefix}{event['category']}{local(event):%Y%m%d}\d{{6}}-[0-9A-F]{{6}}"
            assert re.fullmatch(pattern, event["case_id"])


def test_reports_lie_inside_their_district_and_grid(day: Events, rules: Rules) -> None:
    """Each report's point is inside its district outline, and its grid is there too."""
    catalogue = rules.catalogue
    outlines = {
        f["properties"]["code"]: Outline(f["geometry"]) for f in catalogue.outlines["features"]
    }
    for event in day:
        if event["type"] == EventType.REPORTED:
            assert outlines[event["district"]].contains(event["lon"], event["lat"])
            district = catalogue.district_of_grid(event["grid"])
            street = catalogue.street_of_grid(event["grid"])
            assert district is not None and district.code == event["district"]
            assert street is not None and street.code == event["street"]


def test_a_published_backfill_lands_whole_in_the_stream(
    producer: Producer, redis_client: redis.Redis, rules: Rules
) -> None:
    """Publishing the backfill to a real Redis appends one entry per event."""
    events = simulator(rules, MIDNIGHT + timedelta(hours=12), backfill_hours=2).backfill()
    producer.publish_many(events)
    assert redis_client.xlen(producer.stream) == len(events) > 0


def test_run_publishes_the_backfill_then_stops_when_asked(
    producer: Producer, redis_client: redis.Redis, rules: Rules
) -> None:
    """run() sends at least the backfill and returns soon after stop is set."""
    start = MIDNIGHT + timedelta(hours=12)
    expected = len(simulator(rules, start, backfill_hours=2).backfill())
    stop = threading.Event()
    sim = simulator(rules, start, backfill_hours=2)
    worker = threading.Thread(target=sim.run, args=(producer, stop), kwargs={"speed": 60})
    worker.start()
    deadline = time.monotonic() + 10
    while redis_client.xlen(producer.stream) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(timeout=2)
    assert not worker.is_alive()
    assert redis_client.xlen(producer.stream) >= expected


def test_config_refuses_a_rate_that_is_not_positive() -> None:
    """A zero rate is a mistake, not a silent city."""
    with pytest.raises(ValueError, match="rate"):
        SimulatorConfig(rate=0)


def city_day(directory: Path) -> tuple[Rules, Events]:
    """A city folder's rules and six simulated hours of its events (backfill)."""
    rules = city_rules(Settings(city_dir=str(directory)))
    start = datetime(2025, 3, 4, 16, tzinfo=ZoneInfo(rules.catalogue.timezone))
    return rules, simulator(rules, start, backfill_hours=6).backfill()


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_city_simulates_events_the_contract_accepts(directory: Path) -> None:
    """A simulator over each city folder in dashboard/data gives valid events."""
    _, events = city_day(directory)
    assert len(events) > 100
    for event in events:
        validate(event)


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_city_reports_inside_its_district_outlines(directory: Path) -> None:
    """Each report of each shipped city names a district and lies inside its outline."""
    rules, events = city_day(directory)
    outlines = {
        f["properties"]["code"]: Outline(f["geometry"])
        for f in rules.catalogue.outlines["features"]
    }
    reports = [event for event in events if event["type"] == EventType.REPORTED]
    assert reports
    for report in reports:
        assert outlines[report["district"]].contains(report["lon"], report["lat"])


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_city_plays_stories_its_workflow_accepts(directory: Path) -> None:
    """Folding each shipped city's simulated hours through its own rules raises nothing."""
    rules, events = city_day(directory)
    assert fold(events, rules)


def test_a_gridless_city_puts_more_reports_in_its_larger_districts() -> None:
    """In New York (no grids) Queens, the largest borough, gets more than Manhattan."""
    _, events = city_day(DEFAULT_DIR.parent / "new-york")
    districts = Counter(e["district"] for e in events if e["type"] == EventType.REPORTED)
    queens, manhattan = districts["036081"], districts["036061"]
    assert queens > manhattan


def test_a_city_without_districts_reports_around_its_centre(tmp_path: Path) -> None:
    """With no districts nor outlines, reports lie in the city's bbox and name no area."""
    city = Path(shutil.copytree(DEFAULT_DIR.parent / "new-york", tmp_path / "city"))
    (city / "areas.yaml").write_text("[]\n")
    (city / "districts.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": []})
    )
    rules, events = city_day(city)
    min_lon, min_lat, max_lon, max_lat = rules.catalogue.bbox
    reports = [event for event in events if event["type"] == EventType.REPORTED]
    assert reports
    for report in reports:
        validate(report)
        assert min_lon <= report["lon"] <= max_lon and min_lat <= report["lat"] <= max_lat
        assert not {"grid", "district", "street"} & report.keys()
