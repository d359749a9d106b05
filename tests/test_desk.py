"""The desk's server side: its filter in SQL, the CSV export, alerts seen per user."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store import desk
from streams.consumer import Item
from streams.schema import validate
from tests import webclients
from tests.stories import story

NOW = datetime.now(UTC)


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The app with three open cases: sanitation (red), water (green), a text one."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    events = [
        *story("S1", NOW - timedelta(hours=2), "sanitation", deadline=NOW - timedelta(minutes=5)),
        *story("W1", NOW, "water", deadline=NOW + timedelta(hours=5)),
        *story("T1", NOW, "water", address='=HYPERLINK("x")', description="井盖缺失 88 号"),
    ]
    built.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    yield built


def client_as(app: App, role: Role) -> FlaskClient:
    """A client signed in with a new user of this role."""
    return webclients.signed_in(app, f"u-{role.value}", role)


def kept(app: App, query: dict[str, str]) -> list[str]:
    """Case ids the desk's filter keeps, in SQL."""
    with app.store.sessions() as session:
        found = desk.filtered(session, desk.DeskFilter.from_query(query), datetime.now(UTC))
        return sorted(case.case_id for case in found)


@pytest.mark.parametrize(
    ("query", "expected"),
    [({}, ["S1", "T1", "W1"]), ({"dep": "sanitation"}, ["S1"]), ({"light": "red"}, ["S1"]),
     ({"light": "green,red", "dep": "water"}, ["T1", "W1"]), ({"q": "井盖"}, ["T1"]),
     ({"q": "w1"}, ["W1"]), ({"major": "01"}, ["S1", "T1", "W1"]), ({"q": "%"}, []),
     ({"sv": "1"}, [])],
)  # fmt: skip
def test_the_filter_keeps_what_the_url_asks_for(app: App, query: dict, expected: list) -> None:
    """Unit, light, text (case-insensitive, % is a character), major class, supervised."""
    assert kept(app, query) == expected


def test_the_export_is_excel_ready_and_safe(app: App) -> None:
    """UTF-8 with a BOM, the filter applied, formulas in report text defused."""
    response = client_as(app, Role.VIEWER).get("/api/desk/export.csv?dep=water")
    assert response.status_code == 200 and response.is_streamed
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeffcase_id,")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert sorted(r["case_id"] for r in rows) == ["T1", "W1"]
    assert next(r for r in rows if r["case_id"] == "T1")["address"].startswith("'=")


def test_alerts_seen_are_kept_per_user(app: App) -> None:
    """A commander's acknowledgement stays with them, not with another commander."""
    first = client_as(app, Role.COMMANDER)
    assert first.post("/api/desk/acks", json={"keys": ["overdue:S1:1"]}).status_code == 200
    assert first.get("/api/desk/acks").get_json()["keys"] == ["overdue:S1:1"]
    other = webclients.signed_in(app, "second", Role.COMMANDER)
    assert other.get("/api/desk/acks").get_json()["keys"] == []


def test_the_desk_data_needs_a_desk_role(app: App) -> None:
    """A wall's token reads none of it; a viewer reads but may not acknowledge."""
    wall, _ = webclients.wall_client(app, "screen-9")
    assert wall.get("/api/desk/cases").status_code == 403
    assert wall.get("/api/desk/export.csv").status_code == 403
    viewer = client_as(app, Role.VIEWER)
    table = viewer.get("/api/desk/cases").get_json()
    assert sorted(row[0] for row in table["rows"]) == ["S1", "T1", "W1"]
    assert viewer.post("/api/desk/acks", json={"keys": ["x"]}).status_code == 403
