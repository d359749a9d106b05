"""The web app through Flask's test client, on a real Redis and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.settings import Settings
from dashboard.store.accounts import Role
from streams.consumer import Item
from streams.names import lane_key
from streams.producer import new_event
from streams.schema import validate
from tests.stories import story


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application on the test database and Redis."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    yield built


@pytest.fixture
def client(app: App) -> FlaskClient:
    """A test client of the app; its requests come from the app's own pages (Origin)."""
    client = app.server.test_client()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client


def sign_in(client: FlaskClient, app: App) -> None:
    """Sign in as a commander."""
    app.accounts.create_user("duty", "s3cret-pass", Role.COMMANDER)
    response = client.post("/login", data={"username": "duty", "password": "s3cret-pass"})
    assert response.status_code == 302


def test_health_reports_redis_database_and_lag(
    client: FlaskClient, app: App, redis_client, store, settings
) -> None:
    """/healthz answers 200 with the figures an operator needs (to an API key)."""
    from tests.test_ingest import make_ingest

    make_ingest(redis_client, store, settings, "a").consumer.step()  # its heartbeat
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + app.apikeys.create("probe")
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] is True
    assert body["redis"] is True and body["database"] is True
    assert set(body["consumer"]) == {"undelivered", "pending"}
    assert "last_applied_age_s" in body


def test_health_counts_undelivered_entries(client: FlaskClient, app: App, producer) -> None:
    """Entries nobody has read yet show as consumer lag (to an API key)."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + app.apikeys.create("probe")
    producer.publish(new_event("case.filed", "x"))
    producer.publish(new_event("case.filed", "y"))
    assert client.get("/healthz").get_json()["consumer"]["undelivered"] == 2


def test_wall_needs_a_token(client: FlaskClient) -> None:
    """The wall without a token or session is refused."""
    assert client.get("/wall/").status_code == 401


def test_revoked_token_is_refused(client: FlaskClient, app: App) -> None:
    """A revoked display token no longer opens the wall, even in an open session."""
    token = app.accounts.create_token("screen-1")
    assert client.get(f"/wall/?token={token}").status_code == 200
    assert client.get("/wall/_dash-layout").status_code == 200
    assert app.accounts.revoke("screen-1") == 1
    assert client.get("/wall/_dash-layout").status_code == 401
    assert client.get(f"/wall/?token={token}").status_code == 403


def test_other_views_send_strangers_to_sign_in(client: FlaskClient) -> None:
    """Pages other than the wall need a signed-in user."""
    response = client.get("/api/snapshot")
    assert response.status_code == 401
    assert client.get("/").headers["Location"].startswith("/login")


def test_wrong_password_is_refused(client: FlaskClient, app: App) -> None:
    """A wrong password does not sign in."""
    app.accounts.create_user("duty", "s3cret-pass", Role.COMMANDER)
    response = client.post("/login", data={"username": "duty", "password": "guess"})
    assert response.status_code == 401 and client.get("/api/snapshot").status_code == 401


def test_case_endpoint_gives_state_and_history(client: FlaskClient, app: App) -> None:
    """/api/cases/<id> has the case's state and every event in order."""
    report = new_event(
        "case.reported", "C9", source="hotline", kind="event", category="0102", lon=113.5, lat=22.2
    )
    app.store.apply_batch(
        [Item("1-0", validate(report)), Item("2-0", validate(new_event("case.filed", "C9")))]
    )
    sign_in(client, app)
    body = client.get("/api/cases/C9").get_json()
    assert body["state"] == "filed" and body["light"] is None and body["deadline"] is None
    assert [h["type"] for h in body["history"]] == ["case.reported", "case.filed"]
    assert client.get("/api/cases/nope").status_code == 404


def dispatch(app: App, case_id: str, department: str) -> None:
    """Report, file and dispatch a case straight into the store."""
    events = story(case_id, datetime.now(UTC), department, source="hotline")
    app.store.apply_batch([Item(f"{i}-{case_id}", validate(e)) for i, e in enumerate(events)])


def test_case_endpoint_gives_deadline_and_light(client: FlaskClient, app: App) -> None:
    """A dispatched case answers with its deadline and a green light at first."""
    dispatch(app, "D1", "sanitation")
    sign_in(client, app)
    body = client.get("/api/cases/D1").get_json()
    assert body["light"] == "green" and body["deadline"] is not None


def test_boards_endpoint_counts_open_cases_per_unit(client: FlaskClient, app: App) -> None:
    """/api/boards gives each unit's open, yellow and red counts."""
    dispatch(app, "B1", "sanitation")
    dispatch(app, "B2", "sanitation")
    dispatch(app, "B3", "gardens")
    sign_in(client, app)
    boards = {b["department"]: b for b in client.get("/api/boards").get_json()["boards"]}
    assert boards["sanitation"]["open"] == 2 and boards["gardens"]["open"] == 1


def test_kpis_and_rankings_take_a_period(client: FlaskClient, app: App) -> None:
    """/api/kpis and /api/rankings answer for the period and grouping asked."""
    dispatch(app, "B1", "sanitation")
    sign_in(client, app)
    body = client.get("/api/kpis?period=month&by=department").get_json()
    assert body["by"] == "department" and body["figures"][0]["code"] == "sanitation"
    assert body["figures"][0]["dispatched"] == 1
    ranking = client.get("/api/rankings?period=month&value=2026-01&by=district").get_json()
    assert ranking["period"]["start"].startswith("2026-01-01") and ranking["ranking"] == []


def test_bad_period_is_refused_with_the_reason(client: FlaskClient, app: App) -> None:
    """A period that cannot be read answers 400 saying why."""
    sign_in(client, app)
    response = client.get("/api/kpis?period=month&value=2026-13")
    assert response.status_code == 400 and "bad month period" in response.get_json()["error"]
    assert client.get("/api/rankings?by=street").status_code == 400


def test_after_action_report_and_csv(client: FlaskClient, app: App) -> None:
    """A cleared emergency is listed, reported as JSON and exported as CSV."""
    events = [
        new_event("emergency.raised", hazard="typhoon", level="orange", by="feed"),
        new_event("emergency.cleared", by="feed"),
    ]
    app.store.apply_batch([Item(f"{i}-9", validate(e)) for i, e in enumerate(events)])
    sign_in(client, app)
    (period,) = client.get("/api/emergencies").get_json()["periods"]
    report = client.get(f"/api/emergencies/{period['id']}").get_json()
    assert report["hazard"] == "typhoon" and report["levels"][0]["level"] == "orange"
    exported = client.get(f"/api/emergencies/{period['id']}.csv")
    assert exported.mimetype == "text/csv" and exported.data.startswith(b"\xef\xbb\xbf")
    assert "department/责任单位" in exported.data.decode("utf-8-sig")
    assert client.get("/api/emergencies/999").status_code == 404


def test_emergency_switch_api_checks_role_and_reason(client: FlaskClient, app: App) -> None:
    """Only a commander may switch, and only with a reason; it is published."""
    sign_in(client, app)
    refused = client.post(
        "/api/emergency",
        json={"action": "raise", "hazard": "typhoon", "level": "red", "reason": ""},
    )
    assert refused.status_code == 400 and "reason" in refused.get_json()["error"]
    done = client.post(
        "/api/emergency",
        json={"action": "raise", "hazard": "typhoon", "level": "red", "reason": "signal 10"},
    )
    assert done.status_code == 202 and done.get_json()["published"]["force"] is True
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 1


def test_sign_in_never_redirects_off_the_server(client: FlaskClient, app: App) -> None:
    """A next= pointing at another host lands on the home page instead."""
    app.accounts.create_user("duty", "s3cret-pass", Role.COMMANDER)
    response = client.post(
        "/login?next=//evil.example/x", data={"username": "duty", "password": "s3cret-pass"}
    )
    assert response.headers["Location"] == "/"


def apply_published(app: App, body: dict) -> None:
    """Apply what the switch published, as the ingest worker would."""
    app.store.apply_batch([Item(f"9-{body['event_id'][:8]}", validate(body))])


def switch_to(client: FlaskClient, **request: str) -> tuple[int, dict]:
    """POST the emergency switch; the status and the JSON answer."""
    response = client.post("/api/emergency", json={"reason": "台风预警", **request})
    return response.status_code, response.get_json()


def test_raising_never_lowers_the_level_in_force(client: FlaskClient, app: App) -> None:
    """With orange in force, 'raise yellow' is refused; the city stays at orange."""
    sign_in(client, app)
    status, body = switch_to(client, action="raise", hazard="typhoon", level="orange")
    apply_published(app, body["published"])
    status, body = switch_to(client, action="raise", hazard="typhoon", level="yellow")
    assert status == 400 and "change level" in body["error"]
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 1  # nothing more was published


def test_lowering_is_an_explicit_audited_change_of_level(client: FlaskClient, app: App) -> None:
    """'change_level' lowers orange to yellow; the audit row names the level replaced."""
    from sqlalchemy import select

    from dashboard.store import emergency
    from dashboard.store.models import AuditEntry

    sign_in(client, app)
    _, body = switch_to(client, action="raise", hazard="typhoon", level="orange")
    apply_published(app, body["published"])
    status, body = switch_to(client, action="change_level", level="yellow", reason="减弱为黄色")
    assert status == 202 and body["published"]["level"] == "yellow"
    apply_published(app, body["published"])
    with app.store.sessions() as session:
        assert emergency.state(session)["level"] == "yellow"  # type: ignore[index]
        rows = session.scalars(select(AuditEntry).where(AuditEntry.actor == "duty")).all()
    requested = [row.detail for row in rows if row.action == "emergency.requested"]
    assert '"switch": "change_level"' in requested[-1] and '"was": "orange"' in requested[-1]


def test_the_note_of_the_mode_in_force_can_be_updated(client: FlaskClient, app: App) -> None:
    """'note' keeps the level and replaces the note the banner shows; it is audited."""
    from dashboard.store import emergency

    sign_in(client, app)
    _, body = switch_to(client, action="raise", hazard="typhoon", level="orange")
    apply_published(app, body["published"])
    status, body = switch_to(client, action="note", reason="17时起全市停课")
    assert status == 202
    apply_published(app, body["published"])
    with app.store.sessions() as session:
        state = emergency.state(session)
    assert state is not None and (state["level"], state["note"]) == ("orange", "17时起全市停课")


def test_the_desk_form_starts_at_the_level_in_force(client: FlaskClient, app: App) -> None:
    """With orange in force the desk's level dropdown shows orange, not yellow."""
    sign_in(client, app)
    _, body = switch_to(client, action="raise", hazard="rainstorm", level="orange")
    apply_published(app, body["published"])
    layout = client.get("/desk/_dash-layout").get_json()

    def find(node: object, wanted: str) -> dict | None:
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == wanted:
                return node["props"]
            return next((f for v in node.values() if (f := find(v, wanted))), None)
        if isinstance(node, list):
            return next((f for v in node if (f := find(v, wanted))), None)
        return None

    assert find(layout, "switch-level")["value"] == "orange"  # type: ignore[index]
    assert find(layout, "switch-hazard")["value"] == "rainstorm"  # type: ignore[index]


def test_case_endpoint_is_valid_json_whatever_a_producer_added(
    client: FlaskClient, app: App
) -> None:
    """NaN is refused at the stream; a stored payload with one still serves valid JSON."""
    import json

    from sqlalchemy import update

    from dashboard.store.models import EventRow
    from streams.schema import ContractError, decode

    with pytest.raises(ContractError, match="NaN"):
        decode({"event": '{"type": "case.filed", "extra": NaN}'})
    dispatch(app, "N1", "sanitation")
    with app.store.sessions.begin() as session:  # a row stored before NaN was refused
        session.execute(
            update(EventRow).where(EventRow.case_id == "N1").values(payload='{"extra": NaN}')
        )
    sign_in(client, app)
    text = client.get("/api/cases/N1").get_data(as_text=True)
    body = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert body["history"][0]["event"] == {"extra": None}


def test_snapshot_carries_the_push_position(client: FlaskClient, app: App) -> None:
    """/api/snapshot says which push numbers it already holds."""
    sign_in(client, app)
    body = client.get("/api/snapshot").get_json()
    assert isinstance(body["seq"], int) and body["epoch"]
