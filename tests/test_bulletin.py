"""The monthly bulletin (月度考核通报) of a past month: its page and its CSV.

The month is tests/test_kpis.py's hand-worked March 2026, whose ranking is known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from streams.consumer import Item
from streams.schema import validate
from tests.test_actions import signed_in
from tests.test_kpis import march_events


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application holding the fixture month."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    items = [Item(f"{n}-0", validate(event)) for n, event in enumerate(march_events())]
    assert not built.store.apply_batch(items).rejected
    yield built


@pytest.fixture
def leader(app: App) -> FlaskClient:
    """A leader signed in."""
    return signed_in(app, Role.LEADER)


def test_the_bulletin_ranks_units_and_districts_with_their_figures(leader: FlaskClient) -> None:
    """March 2026: drainage 100 A first, gardens 37.5 E last; Jinwan 90 A first."""
    page = leader.get("/tablet/bulletin?month=2026-03").get_data(as_text=True)
    units = page.split("data-section='department'")[1].split("</section>")[0]
    assert units.index("珠海水务集团排水公司") < units.index("珠海市市政园林局")
    assert "<td>1</td><td>珠海水务集团排水公司</td><td>100.00</td><td>A</td>" in units
    assert "<td>4</td><td>珠海市市政园林局</td><td>37.50</td><td>E</td>" in units
    districts = page.split("data-section='district'")[1]
    assert "<td>1</td><td>金湾区</td><td>90.00</td><td>A</td>" in districts
    assert "<td>3</td><td>斗门区</td><td>18.33</td><td>E</td>" in districts
    assert "2026-03 数字城管月度考核通报" in page


def test_the_bulletin_csv_has_the_same_lines_for_excel(leader: FlaskClient) -> None:
    """UTF-8 with a BOM; one line per unit and district with score, grade and figures."""
    response = leader.get("/tablet/bulletin.csv?month=2026-03")
    body = response.get_data()
    assert response.mimetype == "text/csv" and body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    lines = {(row[1], row[2]): row for row in rows[1:]}
    sanitation = lines[("department", "sanitation")]
    # rank, name, score, grade, dispatched, due, closed, on time, then the rates
    assert sanitation[3:8] == ["3", "珠海市环境卫生管理处", "61.00", "C", "7"]
    assert lines[("district", "440404")][5:7] == ["90.00", "A"]
    assert len([key for key in lines if key[0] == "department"]) == 4


def test_a_stranger_is_sent_to_sign_in(app: App) -> None:
    """The bulletin is for signed-in users only."""
    response = app.server.test_client().get("/tablet/bulletin?month=2026-03")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("month", ["2999-01", "March", "2026-13"])
def test_a_month_to_come_or_unreadable_is_refused(leader: FlaskClient, month: str) -> None:
    """400 with the reason, not an empty bulletin."""
    assert leader.get(f"/tablet/bulletin?month={month}").status_code == 400
