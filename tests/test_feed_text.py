"""Our producers clean outside text before it becomes an event (issue 20).

The contract refuses C0 control characters other than tab, LF and CR; a 311 export
or an Open311 server that has one in an address must not lose the case over it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Engine

from dashboard.domain.catalogue import DEFAULT_DIR
from dashboard.domain.city import city_rules
from dashboard.feeds.records import Record, open311_record
from dashboard.feeds.replay import replay
from dashboard.feeds.stories import load_mapping
from dashboard.settings import Settings
from dashboard.store.batch import Store
from streams.producer import Producer
from tests.test_ingest import dead_letters, drain, make_ingest

NEW_YORK = DEFAULT_DIR.parent / "new-york"
HEADER = ("Unique Key,Complaint Type,Agency,Created Date,Closed Date,Due Date,Latitude,"
          "Longitude,Status,Incident Address,Borough,Open Data Channel Type\n")  # fmt: skip
ROW = '1001,"Street\x0bCondition",DOT,12/25/2013 09:00:00 AM,,,40.7506,-73.9935,Open,"1 MAIN\x0b ST\x01",MANHATTAN,PHONE\n'  # noqa: E501


def test_a_replayed_record_with_a_vertical_tab_becomes_an_accepted_case(
    tmp_path, redis_client: redis.Redis, settings: Settings, engine: Engine
) -> None:
    """The story applies (no dead letter) and the case's text holds no control character."""
    export = tmp_path / "nyc.csv"
    export.write_text(HEADER + ROW, encoding="utf-8")
    producer = Producer(redis_client, settings.stream_key)
    summary = replay(export, load_mapping(NEW_YORK / "replay.yaml"), "America/New_York", producer)
    assert summary.stories == 1
    store = Store(engine, city_rules(Settings(city_dir=str(NEW_YORK))))
    drain(make_ingest(redis_client, store, settings, "replay"))
    assert dead_letters(redis_client, settings.stream_key) == []
    case = store.case("NYC-1001")
    assert case is not None and (case.address, case.description) == ("1 MAIN ST", "StreetCondition")


def test_an_open311_request_is_read_without_control_characters() -> None:
    """What a GeoReport v2 server says is cleaned as it is read (pull and replay alike)."""
    record = open311_record(1, {
        "service_request_id": "17-\x0200042", "service_name": "Pothole\x1b[31m",
        "agency_responsible": "CDOT\x0c", "requested_datetime": "2017-01-02T09:00:00-06:00",
        "status": "open\x07", "address": "5 N\x0b STATE ST", "lat": 41.88, "long": -87.63,
    }, ZoneInfo("UTC"))  # fmt: skip
    assert isinstance(record, Record)
    assert (record.request_id, record.type, record.agency, record.status, record.address) == (
        "17-00042", "Pothole[31m", "CDOT", "open", "5 N STATE ST"
    )  # fmt: skip
