"""Issue 20: every page renders whatever the contract accepts, codes we do not know too.

A hazard is free text on the stream ("earthquake", or HTML); a district, street or
grid may be one the city's catalogue has never heard of. Each arrives here through
a real ingest (Redis stream, consumer, SQLite), then is asked for as the hall's
people would ask: signed in, through the Flask test client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import update

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store import kpis
from dashboard.store.batch import Store
from dashboard.store.kpis import Period
from dashboard.store.models import Case
from layouts.components.casedetail import case_detail
from streams.producer import Producer, new_event
from tests.stories import story
from tests.test_ingest import drain, make_ingest
from tests.webclients import signed_in

HOSTILE = ["earthquake", "<img src=x onerror=alert(1)>"]
NOW = datetime.now(UTC)
OUTSIDE = {"lon": 114.5, "lat": 21.5}  # in the sea, outside every district of Zhuhai
XIANGZHOU = {"lon": 113.55, "lat": 22.25}


def ingest(client: redis.Redis, store: Store, settings: Settings, *events: dict[str, Any]) -> None:
    """Publish events on the test stream and let a real ingest worker apply them all."""
    producer = Producer(client, settings.stream_key)
    for event in events:
        producer.publish(event)
    drain(make_ingest(client, store, settings, "unknown-codes"))


def raised(hazard: str, level: str = "orange") -> dict[str, Any]:
    """A producer's emergency.raised with its own hazard word."""
    return new_event("emergency.raised", hazard=hazard, level=level, by="weather")


@pytest.fixture
def hall(redis_client: redis.Redis, store: Store, settings: Settings):
    """Events into the hall through ingest; the app built afterwards, as `serve` would."""

    def fill(*events: dict[str, Any]) -> App:
        ingest(redis_client, store, settings, *events)
        return create_app(settings, engine=store.engine, redis_url=settings.redis_url)

    return fill


def commander(app: App) -> FlaskClient:
    """A duty commander signed in."""
    return signed_in(app, "duty", Role.COMMANDER)


def shown(response: Any) -> str:
    """A Dash answer's text as the browser gets it (JSON escapes < as \\u003c)."""
    return json.dumps(response.get_json(), ensure_ascii=False)


def refresh_periods(client: FlaskClient) -> Any:
    """The desk's periods table as its refresh callback draws it."""
    body = {
        "output": "periods-list.children",
        "outputs": {"id": "periods-list", "property": "children"},
        "inputs": [{"id": "periods-refresh", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["periods-refresh.n_intervals"],
        "state": [],
    }
    return client.post("/desk/_dash-update-component", json=body)


@pytest.mark.parametrize("hazard", HOSTILE)
def test_a_fresh_app_starts_after_an_unknown_hazard(hall, hazard: str) -> None:
    """create_app (what every `serve` worker runs) builds after an unknown hazard, and
    after it was cleared."""
    assert hall(raised(hazard)) is not None
    assert hall(new_event("emergency.cleared", by="weather")) is not None


@pytest.mark.parametrize("hazard", HOSTILE)
def test_the_desk_answers_after_an_unknown_hazard(hall, hazard: str) -> None:
    """/desk/, its layout and its periods table answer 200 and show the word as text."""
    client = commander(hall(raised(hazard)))
    assert client.get("/desk/").status_code == 200
    layout = client.get("/desk/_dash-layout")
    assert layout.status_code == 200 and hazard in shown(layout)
    refreshed = refresh_periods(client)
    assert refreshed.status_code == 200 and hazard in shown(refreshed)


def test_the_desk_answers_after_an_unknown_hazard_was_cleared(hall) -> None:
    """A cleared period with an unknown hazard still shows in the desk's table."""
    app = hall(raised("earthquake"), new_event("emergency.cleared", by="weather"))
    response = commander(app).get("/desk/_dash-layout")
    assert response.status_code == 200 and "earthquake" in response.get_data(as_text=True)


def switch(client: FlaskClient, **request: str) -> tuple[int, dict]:
    """The desk's emergency switch through its API: the status and the answer."""
    response = client.post("/api/emergency", json={"reason": "地震预警", **request})
    return response.status_code, response.get_json()


@pytest.mark.parametrize("hazard", HOSTILE)
def test_changing_the_level_keeps_the_periods_unknown_hazard(hall, hazard: str) -> None:
    """'change_level' of an earthquake period publishes the new level for the earthquake."""
    status, body = switch(commander(hall(raised(hazard))), action="change_level", level="red")
    assert status == 202, body
    assert (body["published"]["hazard"], body["published"]["level"]) == (hazard, "red")


def test_a_new_note_keeps_the_periods_unknown_hazard(hall) -> None:
    """'note' of an earthquake period keeps its hazard and level."""
    status, body = switch(commander(hall(raised("earthquake"))), action="note")
    assert status == 202, body
    assert (body["published"]["hazard"], body["published"]["level"]) == ("earthquake", "orange")


def test_raising_an_unknown_hazards_period_keeps_its_hazard(hall) -> None:
    """Raising an earthquake period from orange to red may name the earthquake."""
    client = commander(hall(raised("earthquake")))
    status, body = switch(client, action="raise", hazard="earthquake", level="red")
    assert status == 202 and body["published"]["hazard"] == "earthquake"


def test_the_desk_raises_no_hazard_outside_the_vocabulary(hall) -> None:
    """A new emergency from the desk names a hazard of the vocabulary, not 'earthquake'."""
    client = commander(hall(raised("earthquake"), new_event("emergency.cleared", by="weather")))
    status, body = switch(client, action="raise", hazard="earthquake", level="red")
    assert status == 400 and "hazard" in body["error"]


# --- districts, streets and grids the catalogue does not know -------------------------


def reported(case_id: str, **report: Any) -> list[dict[str, Any]]:
    """A case dispatched two hours ago and overdue since five minutes: it is due."""
    return story(
        case_id, NOW - timedelta(hours=2), "sanitation", deadline=NOW - timedelta(minutes=5),
        **report,
    )  # fmt: skip


def test_an_unknown_district_is_placed_by_the_cases_position(hall) -> None:
    """A report naming '火星区' in Xiangzhou lands in Xiangzhou; the word stays in history."""
    app = hall(*reported("U1", district="火星区", street="月球街", grid="999", **XIANGZHOU))
    case = app.store.case("U1")
    assert case is not None and (case.district, case.street, case.grid) == ("440402", None, None)
    (first, *_) = app.store.history("U1")
    assert "火星区" in first.payload


def test_an_unknown_district_outside_every_outline_is_unplaced(hall) -> None:
    """With no outline around its position, the case keeps no district at all."""
    app = hall(*reported("U2", district="=HYPERLINK(1)", street="+cmd", grid="@x", **OUTSIDE))
    case = app.store.case("U2")
    assert case is not None and (case.district, case.street, case.grid) == (None, None, None)


def test_a_known_street_names_its_district(hall) -> None:
    """A known street with an unknown district places the case in the street's district."""
    app = hall(*reported("U3", district="nowhere", street="440402001", **OUTSIDE))
    case = app.store.case("U3")
    assert case is not None and (case.district, case.street) == ("440402", "440402001")


def test_an_unplaced_case_is_counted_never_ranked(hall) -> None:
    """The ranking has no row for an unknown district; the city's figures count the case."""
    app = hall(*reported("P1", district="440402"), *reported("U4", district="火星区", **OUTSIDE))
    month = Period.month_of(NOW, app.timezone)
    with app.store.sessions() as db:
        ranked = kpis.ranking(db, month, "district", NOW)
        (city,) = kpis.figures(db, month, None, NOW)
    assert [row.code for row in ranked] == ["440402"]
    assert city.dispatched == 2


def test_the_bulletin_has_no_row_for_an_unknown_district(hall) -> None:
    """The month's bulletin lists Xiangzhou, not '火星区' (nor an empty code)."""
    app = hall(*reported("P1", district="440402"), *reported("U4", district="火星区", **OUTSIDE))
    month = NOW.astimezone(ZoneInfo(app.timezone)).strftime("%Y-%m")
    leader = signed_in(app, "mayor", Role.LEADER)
    page = leader.get(f"/tablet/bulletin?month={month}").get_data(as_text=True)
    districts = page.split("data-section='district'")[1]
    assert "香洲区" in districts and "火星区" not in districts
    assert districts.count("<tr data-code-row") == 1


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_case_detail_says_unplaced(hall, settings: Settings, language: str) -> None:
    """The detail (desk and tablet) names an unplaced case's district 未定位 / unplaced."""
    app = hall(*reported("U5", district="火星区", **OUTSIDE))
    shown = json.dumps(case_detail(app, "U5", language).to_plotly_json(), default=str,
                       ensure_ascii=False)  # fmt: skip
    assert ("未定位" if language == "zh" else "unplaced") in shown and "火星区" not in shown


# --- codes a catalogue stopped knowing (a city edits its files) -----------------------


@pytest.fixture
def orphan(hall) -> Iterator[App]:
    """A case whose category and unit the catalogue no longer knows."""
    app = hall(*reported("O1", district="440402"))
    with app.store.sessions.begin() as db:
        db.execute(
            update(Case).where(Case.case_id == "O1").values(category="9999", department="gone")
        )
    yield app


def test_open311_answers_for_a_category_it_no_longer_knows(orphan: App) -> None:
    """GeoReport JSON and XML list the case with its raw service code, no error."""
    client = signed_in(orphan, "viewer", Role.VIEWER)
    for form in ("json", "xml"):
        response = client.get(f"/open311/v2/requests/O1.{form}")
        assert response.status_code == 200 and "event-9999" in response.get_data(as_text=True)
