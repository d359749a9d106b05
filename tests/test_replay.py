"""Replays of real 311 exports (shared/data/real311) into the stream and the store."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from dashboard.domain.catalogue import DEFAULT_DIR
from dashboard.domain.city import city_rules
from dashboard.feeds.records import Family, Record, Refused, read
from dashboard.feeds.replay import replay
from dashboard.feeds.stories import CityMapping, load_mapping
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.models import Case, EventRow
from streams.producer import Producer
from tests.test_ingest import dead_letters, drain, make_ingest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real311"
NEW_YORK = DEFAULT_DIR.parent / "new-york"
NYC_2013 = DATA / "nyc_311_2013" / "nyc_311_2013-12-25.csv"
NYC_2022 = DATA / "nyc_311_2022_pyboot" / "nyc_311_2022-05-01_sample.csv"
LOS_ANGELES = DEFAULT_DIR.parent / "los-angeles"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared/data/real311 is not beside")


@pytest.fixture
def new_york(engine: Engine) -> Store:
    """The store with New York's rules (its folder of files, no code of its own)."""
    return Store(engine, city_rules(Settings(city_dir=str(NEW_YORK))))


def count(engine: Engine, what: object) -> int:
    """Rows of a table."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "stories", "closed", "set_aside"),
    [
        (NYC_2013, 2303, 2226, {"no coordinates": 82, "closed before created": 1}),
        (NYC_2022, 913, 477, {"no coordinates": 11}),
    ],
    ids=["nyc-2013", "nyc-2022"],
)
def test_a_new_york_day_replays_into_the_store_with_nothing_lost(
    path, stories, closed, set_aside, redis_client, settings, new_york, engine
) -> None:
    """Every story applies (no dead letter); bad rows are set aside by reason, with lines."""
    mapping = load_mapping(NEW_YORK / "replay.yaml")
    summary = replay(path, mapping, "America/New_York", Producer(redis_client, settings.stream_key))
    print("\n" + "\n".join(summary.lines()))
    assert (summary.stories, summary.closed, dict(summary.set_aside)) == (
        stories,
        closed,
        set_aside,
    )
    assert all(f"{path.name} line " in example for example in summary.examples)
    drain(make_ingest(redis_client, new_york, settings, "replay", batch_size=500), limit=5000)
    assert dead_letters(redis_client, settings.stream_key) == []
    assert count(engine, Case) == stories
    with engine.connect() as connection:
        done = connection.scalar(select(func.count()).where(Case.state == "closed"))
    assert done == closed


def test_a_los_angeles_month_replays_on_its_own_configuration(
    redis_client, settings, engine
) -> None:
    """Los Angeles runs on its folder of files too: its 2020 export applies (a sample)."""
    store = Store(engine, city_rules(Settings(city_dir=str(LOS_ANGELES))))
    mapping = load_mapping(LOS_ANGELES / "replay.yaml")
    path = DATA / "la_myla311" / "myla311_2020_jan_requests.csv"
    producer = Producer(redis_client, settings.stream_key)
    summary = replay(path, mapping, "America/Los_Angeles", producer, limit=2000)
    print("\n" + "\n".join(summary.lines()))
    assert (summary.rows, summary.stories) == (2000, 2000 - sum(summary.set_aside.values()))
    drain(make_ingest(redis_client, store, settings, "replay", batch_size=500), limit=5000)
    assert dead_letters(redis_client, settings.stream_key) == []
    assert count(engine, Case) == summary.stories


def test_replaying_the_same_file_twice_changes_nothing(
    redis_client, settings, new_york, engine
) -> None:
    """Event ids come from the records' ids: a second replay is all duplicates."""
    mapping = load_mapping(NEW_YORK / "replay.yaml")
    producer = Producer(redis_client, settings.stream_key)
    ingest = make_ingest(redis_client, new_york, settings, "replay", batch_size=500)
    replay(NYC_2022, mapping, "America/New_York", producer)
    drain(ingest, limit=5000)
    cases, events = count(engine, Case), count(engine, EventRow)
    replay(NYC_2022, mapping, "America/New_York", producer)
    drain(ingest, limit=5000)
    assert (count(engine, Case), count(engine, EventRow)) == (cases, events)
    assert dead_letters(redis_client, settings.stream_key) == []


def test_a_reported_borough_wins_and_a_position_alone_is_placed(new_york, engine) -> None:
    """Requests land in their borough: named by the export, or located by the outlines."""
    family, rows = read(NYC_2022, "America/New_York")
    records = [row for row in rows if isinstance(row, Record) and row.lat is not None]
    located = Counter(
        new_york.rules.catalogue.place(r.lon, r.lat, {})["district"]  # type: ignore[arg-type]
        for r in records
    )
    assert family is Family.NYC and located[None] / len(records) < 0.05


@pytest.mark.parametrize(
    ("path", "family", "rows", "refused"),
    [
        (DATA / "la_myla311" / "myla311_2017_subset.csv", Family.LA, 9999, 0),
        (DATA / "la_myla311" / "myla311_2020_jan_requests.csv", Family.LA, 10000, 0),
        (DATA / "baltimore_311" / "baltimore_311_customer_service_requests.csv",
         Family.BALTIMORE, 3000, 0),
        (DATA / "chicago_open311_v2" / "chicago_requests_with_notes.json", Family.OPEN311, 50, 0),
    ],
    ids=["la-2017", "la-2020", "baltimore", "chicago"],
)  # fmt: skip
def test_every_family_is_detected_and_read(path, family, rows, refused) -> None:
    """The other exports are recognised by their header and read row by row."""
    found, read_rows = read(path, "America/Chicago")
    kinds = Counter(type(row) for row in read_rows)
    assert (found, kinds[Record] + kinds[Refused], kinds[Refused]) == (family, rows, refused)


def test_chicago_transfers_become_returns_and_dispatches() -> None:
    """A follow-on for another agency returns the case and dispatches it there."""
    from dashboard.feeds.stories import story

    mapping = CityMapping(categories={}, units={}, default_category=("event", "9901"),
                          default_unit="other")  # fmt: skip
    _, rows = read(DATA / "chicago_open311_v2" / "chicago_requests_with_notes.json", "UTC")
    first = next(row for row in rows if isinstance(row, Record) and row.transfers)
    units = {first.agency.lower(): "dot", first.transfers[-1].agency.lower(): "dep"}
    mapped = CityMapping(categories={}, units=units, default_category=("event", "9901"))
    types = [event["type"] for event in story(first, mapped, "open311")]  # type: ignore[union-attr]
    assert "case.returned" in types and types.count("case.dispatched") >= 2
    assert isinstance(story(first, mapping, "open311"), list)


def test_the_replay_command_prints_its_summary(redis_url, redis_client, stream_key) -> None:
    """`commandhall replay FILE --city-dir new-york` publishes and says what it set aside."""
    from click.testing import CliRunner

    from dashboard.cli import main

    args = ["replay", str(NYC_2022), "--city-dir", str(NEW_YORK), "--redis-url", redis_url]
    result = CliRunner().invoke(main, [*args, "--stream-key", stream_key])
    assert result.exit_code == 0, result.output
    assert "924 rows read, 913 stories published" in result.output
    assert "set aside, no coordinates: 11" in result.output
    assert redis_client.xlen(stream_key) == 3693
    wrong = CliRunner().invoke(main, [*args, "--stream-key", stream_key, "--format", "la"])
    assert wrong.exit_code != 0 and "reads as nyc, not la" in str(wrong.exception)


def test_from_now_plays_the_export_as_if_it_were_today(
    redis_client, settings, new_york, engine
) -> None:
    """--from-now moves the export to start now, its clock sped up by --speed."""
    from datetime import UTC, datetime, timedelta

    mapping = load_mapping(NEW_YORK / "replay.yaml")
    producer = Producer(redis_client, settings.stream_key)
    began = datetime.now(UTC)
    summary = replay(NYC_2022, mapping, "America/New_York", producer, speed=86_400 * 30,
                     from_now=True, limit=300)  # fmt: skip
    ended = datetime.now(UTC) + timedelta(seconds=2)
    times = [
        datetime.fromisoformat(json_event["at"])
        for _, fields in redis_client.xrange(settings.stream_key)
        for json_event in [json.loads(fields[b"event"])]
    ]
    assert len(times) == summary.events and all(began <= t <= ended for t in times)
    drain(make_ingest(redis_client, new_york, settings, "replay", batch_size=500))
    assert dead_letters(redis_client, settings.stream_key) == []


LA_2017, LA_2018 = (
    DATA / "la_myla311" / f"myla311_{n}.csv" for n in ("2017_subset", "2018_jan_mini")
)
LA_2020 = DATA / "la_myla311" / "myla311_2020_jan_requests.csv"
BALTIMORE = DATA / "baltimore_311" / "baltimore_311_customer_service_requests.csv"
CHICAGO = DATA / "chicago_open311_v2" / "chicago_requests_with_notes.json"
NO_XY, BACKWARDS, DUPLICATE = "no coordinates", "closed before created", "duplicate request"


@pytest.mark.parametrize(
    ("path", "city", "counts"),
    [
        (NYC_2013, NEW_YORK, (2386, 2303, 2226, {NO_XY: 82, BACKWARDS: 1})),
        (NYC_2022, NEW_YORK, (924, 913, 477, {NO_XY: 11})),
        (LA_2017, LOS_ANGELES, (9999, 8234, 7986, {NO_XY: 1753, BACKWARDS: 12})),
        (LA_2018, LOS_ANGELES, (10000, 8885, 8606, {NO_XY: 1102, BACKWARDS: 13})),
        (LA_2020, LOS_ANGELES, (10000, 9989, 9702, {NO_XY: 11})),
        (BALTIMORE, NEW_YORK, (3000, 2813, 1265, {NO_XY: 130, DUPLICATE: 57})),
        (CHICAGO, NEW_YORK, (50, 50, 49, {})),
    ],
    ids=["nyc-2013", "nyc-2022", "la-2017", "la-2018", "la-2020", "baltimore", "chicago"],
)
def test_each_shared_dataset_replays_to_known_counts(
    path: Path, city: Path, counts: tuple, redis_client, settings
) -> None:
    """Rows read, stories, closed cases and rows set aside by reason, per real export."""
    producer = Producer(redis_client, settings.stream_key)
    summary = replay(path, load_mapping(city / "replay.yaml"), "UTC", producer)
    print("\n" + "\n".join(summary.lines()[:3]))
    assert (summary.rows, summary.stories, summary.closed, dict(summary.set_aside)) == counts
