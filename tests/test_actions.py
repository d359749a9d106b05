"""Actions on a case (urge, supervise, flag): checked on the server, audited, published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store.models import AuditEntry
from dashboard.web.actions import ActionRefused, act
from streams.consumer import Item
from streams.names import lane_key
from streams.schema import validate
from tests import webclients
from tests.stories import story


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application on the test database and Redis, with one open case."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    events = story("A1", datetime.now(UTC), "sanitation")
    built.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    yield built


def signed_in(app: App, role: Role) -> FlaskClient:
    """A client signed in with a new user of this role (named after it)."""
    return webclients.signed_in(app, role.value, role)


def published(app: App) -> list[dict]:
    """The events published on the test stream's emergency lane (where actions go)."""
    lane = lane_key(app.settings.stream_key)
    return [json.loads(f[b"event"]) for _, f in app.redis.xrange(lane)]


def audited(app: App) -> list[tuple[str | None, str, dict]]:
    """(actor, action, detail) of every audit entry."""
    with app.store.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, json.loads(r.detail or "{}")) for r in rows]


def test_a_commander_urges_and_it_is_published_and_audited(app: App) -> None:
    """催办 puts case.urged with the commander's name on the stream and in the audit log."""
    client = signed_in(app, Role.COMMANDER)
    response = client.post("/api/cases/A1/urge", json={"note": "请尽快处置"})
    assert response.status_code == 202
    [event] = published(app)
    assert (event["type"], event["case_id"], event["by"], event["note"]) == (
        "case.urged", "A1", "commander", "请尽快处置"
    )  # fmt: skip
    actor, action, detail = audited(app)[-1]
    assert (actor, action, detail["case"], detail["event_id"]) == (
        "commander", "case.urge", "A1", event["event_id"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("role", "action"),
    [(Role.LEADER, "urge"), (Role.LEADER, "flag"), (Role.VIEWER, "supervise"),
     (Role.COMMANDER, "supervise"), (Role.ADMIN, "urge")],
)  # fmt: skip
def test_a_role_without_the_permission_is_refused_on_the_server(
    app: App, role: Role, action: str
) -> None:
    """Refused with 403, nothing published, and the attempt audited."""
    client = signed_in(app, role)
    response = client.post(f"/api/cases/A1/{action}", json={"note": "try it"})
    assert response.status_code == 403
    assert published(app) == []
    actor, _, detail = audited(app)[-1]
    assert actor == role.value and detail["path"] == f"/api/cases/A1/{action}"


def test_the_action_itself_checks_the_role_too(app: App) -> None:
    """Behind the guard, act() refuses a role without the permission (and audits it)."""
    with pytest.raises(ActionRefused) as refused:
        act(app, {"role": "leader", "username": "mayor"}, "A1", "urge", "hurry up")
    assert refused.value.status == 403 and published(app) == []
    assert audited(app)[-1][:2] == ("mayor", "case.action_refused")


def test_a_leader_supervises_and_a_commander_flags(app: App) -> None:
    """督办 is the leader's, flagging the commander's."""
    leader, commander = signed_in(app, Role.LEADER), signed_in(app, Role.COMMANDER)
    assert leader.post("/api/cases/A1/supervise", json={"note": "重点跟进"}).status_code == 202
    assert commander.post("/api/cases/A1/flag", json={"note": "深坑危险"}).status_code == 202
    assert [e["type"] for e in published(app)] == ["case.supervised", "case.flagged"]


def test_a_display_token_can_only_watch(app: App) -> None:
    """A wall's session may not act, whatever it posts."""
    client, _ = webclients.wall_client(app)
    for action in ("urge", "supervise", "flag"):
        response = client.post(f"/api/cases/A1/{action}", json={"note": "from a wall"})
        assert response.status_code in (401, 403)
    assert published(app) == []


@pytest.mark.parametrize(
    ("case_id", "action", "note", "status", "key"),
    [("A1", "urge", " ", 400, "err_note"), ("A1", "urge", "x" * 501, 400, "err_note"),
     ("A1", "praise", "well done", 400, "err_action"), ("NOPE", "urge", "hurry", 404, "err_case")],
)  # fmt: skip
def test_bad_requests_say_why(
    app: App, case_id: str, action: str, note: str, status: int, key: str
) -> None:
    """A missing note, an unknown action or case: refused with the reason."""
    client = signed_in(app, Role.COMMANDER)
    response = client.post(f"/api/cases/{case_id}/{action}", json={"note": note})
    assert (response.status_code, response.get_json()["key"]) == (status, key)
    assert published(app) == []


def test_a_closed_case_cannot_be_urged(app: App) -> None:
    """Only open cases take actions."""
    self_handled = story("A2", datetime.now(UTC), None, source="self")[0]  # closed at once
    app.store.apply_batch([Item("0-1", validate(self_handled))])
    response = signed_in(app, Role.COMMANDER).post("/api/cases/A2/urge", json={"note": "hurry"})
    assert response.status_code == 409
