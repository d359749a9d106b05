"""The audit trail can be trusted: the result said, the stream's rows marked, the address kept.

Issue 20: refused case actions were stored as "ok", a producer writing `"by": "adm"`
appeared as the administrator, actions and switches carried no address, and a wall
signing in with its display token left no row at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store import audit
from dashboard.store.models import AuditEntry
from streams.consumer import Item
from streams.producer import Producer, new_event
from streams.schema import validate
from tests import webclients
from tests.stories import story
from tests.test_ingest import drain, make_ingest

PROXY_SAYS = "203.0.113.7"  # the client's address as the trusted proxy forwards it


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The app behind one trusted proxy, with one open case A1."""
    built = create_app(settings.with_(trusted_proxies=1), engine=engine,
                       redis_url=settings.redis_url)  # fmt: skip
    events = story("A1", datetime.now(UTC), "sanitation")
    built.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    yield built


def rows(app: App, action: str) -> list[AuditEntry]:
    """The audit rows of one action, oldest first."""
    with app.store.sessions() as db:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(db.scalars(query))


def commander(app: App) -> FlaskClient:
    """A commander signed in, whose requests come through the proxy from PROXY_SAYS."""
    client = webclients.signed_in(app, "duty", Role.COMMANDER)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = PROXY_SAYS
    return client


def ingest(app: App, client: redis.Redis, settings: Settings, *events: dict) -> None:
    """Publish events on the stream and let a real ingest worker apply them."""
    Producer(client, settings.stream_key).publish_many(list(events))
    drain(make_ingest(client, app.store, settings, "audit"))


def test_a_refused_case_action_is_stored_as_refused(app: App) -> None:
    """An urge without a note is refused (400), and its row says "refused", not "ok"."""
    assert commander(app).post("/api/cases/A1/urge", json={"note": "x"}).status_code == 400
    [row] = rows(app, "case.action_refused")
    assert (row.actor, row.result) == ("duty", "refused")


def test_an_urge_keeps_the_address_it_came_from(app: App) -> None:
    """The row of an urge has the client's address, as the trusted proxy gave it."""
    assert commander(app).post("/api/cases/A1/urge", json={"note": "请尽快"}).status_code == 202
    [row] = rows(app, "case.urge")
    assert (row.result, row.address) == ("ok", PROXY_SAYS)


def test_an_emergency_switch_keeps_the_address_it_came_from(app: App) -> None:
    """Raising emergency mode from a desk is audited with the client's address."""
    switched = {"action": "raise", "hazard": "typhoon", "level": "red", "reason": "10 号风球"}
    assert commander(app).post("/api/emergency", json=switched).status_code == 202
    [row] = rows(app, "emergency.requested")
    assert (row.actor, row.address) == ("duty", PROXY_SAYS)


def test_an_export_and_an_acknowledgement_keep_their_address(app: App) -> None:
    """The desk's export and its alerts seen are audited with the client's address."""
    client = commander(app)
    assert client.get("/api/desk/export.csv").status_code == 200
    assert client.post("/api/desk/acks", json={"keys": ["overdue:A1"]}).status_code == 200
    assert [r.address for r in rows(app, "desk.export") + rows(app, "desk.acknowledge")] == [
        PROXY_SAYS, PROXY_SAYS,
    ]  # fmt: skip


def test_a_stream_emergency_is_the_streams_not_the_admins(
    app: App, redis_client: redis.Redis, settings: Settings
) -> None:
    """A producer writing "by": "adm" is audited as stream:adm, never as the admin adm."""
    app.accounts.create_user("adm", webclients.PASSWORD, Role.ADMIN)
    raised = new_event("emergency.raised", hazard="typhoon", level="red", by="adm", force=True)
    ingest(app, redis_client, settings, raised)
    [row] = rows(app, "emergency.raised")
    assert (row.actor, row.result) == ("stream:adm", "ok")
    assert json.loads(row.detail or "{}")["event_id"] == raised["event_id"]


def test_a_stream_event_cannot_date_its_row_in_the_past(
    app: App, redis_client: redis.Redis, settings: Settings
) -> None:
    """The row's time is the server's; the event's own time is kept in the detail."""
    then = datetime.now(UTC) - timedelta(days=365)
    ingest(app, redis_client, settings, new_event("emergency.cleared", at=then, by="feed"))
    [row] = rows(app, "emergency.clear_ignored")
    assert row.at > datetime.now(UTC) - timedelta(minutes=5)
    assert datetime.fromisoformat(json.loads(row.detail or "{}")["event_at"]) == then


def test_a_walls_sign_in_with_its_display_token_is_audited(app: App) -> None:
    """Opening the wall with a token leaves a row with the token's name and the address."""
    webclients.wall_client(app, "hall-left")
    [row] = rows(app, "display.sign_in")
    assert (row.actor, row.result, row.address) == ("display:hall-left", "ok", "127.0.0.1")


def test_a_wrong_display_token_is_audited_without_the_token(app: App) -> None:
    """A token that is not valid is refused and audited; what was sent is not stored."""
    assert webclients.client_of(app).get("/wall/?token=guessed-secret").status_code == 403
    [row] = rows(app, "display.sign_in")
    assert row.result == "refused" and "guessed-secret" not in (row.detail or "")


def test_a_row_with_a_result_outside_the_list_is_refused(app: App) -> None:
    """The writer takes only the documented results: a typo is an error, not a row."""
    with app.store.sessions() as db, pytest.raises(ValueError):
        audit.record(db, "duty", "case.urge", "okay")


def test_a_long_producer_name_still_fits_the_actor_column(app: App) -> None:
    """stream: and a 128-character `by` are cut to the column's 128 characters."""
    with app.store.sessions.begin() as db:
        audit.record(db, audit.stream_actor("p" * 128), "emergency.note", audit.Result.OK)
    [row] = rows(app, "emergency.note")
    assert row.actor == ("stream:" + "p" * 128)[:128]
