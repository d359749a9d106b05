"""Issue 12's attacks, each as a regression test, and the session rules behind them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store.accounts import AuthError
from dashboard.store.models import AuditEntry, LoginSession, User
from dashboard.web.signin import safe_next
from streams.names import lane_key
from tests.webclients import PASSWORD, client_of, key_client, signed_in, wall_client

RAISE = {"action": "raise", "hazard": "typhoon", "level": "red", "reason": "signal 10"}


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application with a short lock-out, so its end can be waited for."""
    yield create_app(
        settings.with_(login_failures=5, login_lockout_s=2),
        engine=engine,
        redis_url=settings.redis_url,
    )


def audit_rows(app: App, action: str) -> list[AuditEntry]:
    """Audit rows of one action, oldest first."""
    with app.store.sessions() as db:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(db.scalars(query))


@pytest.mark.parametrize("path", ["/desk/x/assets/y", "/tablet/x/assets/y", "/desk/assets/../"])
def test_a_path_merely_containing_assets_is_not_public(app: App, path: str) -> None:
    """/desk/x/assets/y is the desk's page, not an asset: strangers are sent to sign in."""
    response = client_of(app).get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_static_bundles_stay_public(app: App) -> None:
    """Dash's own assets are served without signing in (they hold no data)."""
    assert client_of(app).get("/wall/assets/wall.css").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/desk/", "/tablet/", "/api/kpis", "/api/rankings", "/api/boards", "/api/emergencies",
     "/api/cases/C1", "/api/emergencies/1.csv", "/open311/v2/services.json", "/"],
)  # fmt: skip
def test_a_display_token_reaches_nothing_but_the_wall(app: App, path: str) -> None:
    """A wall's token opens no desk, tablet, case history, KPI or report."""
    client, _ = wall_client(app)
    assert client.get(path).status_code == 403


def test_a_display_token_reads_what_the_wall_reads(app: App) -> None:
    """The wall's snapshot and the emergency state answer a display session."""
    client, _ = wall_client(app)
    assert client.get("/api/snapshot").status_code == 200
    assert client.get("/api/emergency").status_code == 200
    assert client.post("/api/emergency", json=RAISE).status_code == 403


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\\evil.example", "//evil.example", "/\n/evil.example",
               "https://evil.example/", "/%09/evil.example"],
)  # fmt: skip
def test_safe_next_never_leaves_the_server(target: str) -> None:
    """Tabs, newlines and backslashes that browsers read as // are refused."""
    assert safe_next(target) in ("/", "/%09/evil.example")


def test_sign_in_with_a_tab_in_next_stays_on_the_server(app: App) -> None:
    """POST /login?next=%2F%09%2Fevil.example lands on /, not //evil.example."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    response = client_of(app).post(
        "/login?next=%2F%09%2Fevil.example", data={"username": "duty", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_a_cookie_saved_before_logout_is_worthless_after(app: App) -> None:
    """Signing out ends the server-side session: a copied cookie cannot clear anything."""
    client = signed_in(app, "duty", Role.COMMANDER)
    saved = client.get_cookie("commandhall_session")
    assert saved is not None
    client.get("/logout")
    thief = client_of(app)
    thief.set_cookie("commandhall_session", saved.value)
    assert thief.post("/api/emergency", json=RAISE).status_code == 401
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 0


def test_the_cookie_holds_no_role(app: App) -> None:
    """The signed cookie carries a session key only; the role is the database's."""
    client = signed_in(app, "duty", Role.COMMANDER)
    cookie = client.get_cookie("commandhall_session")
    serializer = app.server.session_interface.get_signing_serializer(app.server)  # type: ignore[attr-defined]
    content = serializer.loads(cookie.value)  # type: ignore[union-attr]
    assert "role" not in content and "username" not in content


def test_a_role_change_takes_effect_on_the_next_request(app: App) -> None:
    """A commander demoted to viewer can no longer switch emergency mode."""
    client = signed_in(app, "duty", Role.COMMANDER)
    app.accounts.set_role("duty", Role.VIEWER)
    assert client.post("/api/emergency", json=RAISE).status_code in (401, 403)
    with app.store.sessions.begin() as db:  # even if someone edits the row behind our back
        db.execute(update(User).where(User.username == "duty").values(role="viewer"))
    client = client_of(app)
    client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert client.post("/api/emergency", json=RAISE).status_code == 403


def test_disabling_a_user_cuts_their_next_request(app: App) -> None:
    """A disabled commander's open session is refused at once, and they cannot sign in."""
    client = signed_in(app, "duty", Role.COMMANDER)
    app.accounts.disable("duty")
    assert client.get("/api/snapshot").status_code == 401
    again = client_of(app).post("/login", data={"username": "duty", "password": PASSWORD})
    assert again.status_code == 401
    assert [row.result for row in audit_rows(app, "sign_in")][-1] == "disabled"


def without_message_queue(app: App) -> App:
    """Flask-SocketIO's test client needs the in-process manager, not the Redis one."""
    import socketio

    manager = socketio.Manager()
    manager.set_server(app.socketio.server)
    manager.initialize()
    app.socketio.server.manager = manager
    return app


def test_disabling_a_user_cuts_their_live_connection(app: App) -> None:
    """The Socket.IO connection of a disabled user is cut within a few seconds."""
    without_message_queue(app)
    client = signed_in(app, "duty", Role.COMMANDER)
    live = app.socketio.test_client(app.server, flask_test_client=client)
    assert live.is_connected()
    app.accounts.disable("duty")
    deadline = time.monotonic() + 15
    while live.is_connected() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not live.is_connected()


def test_a_socket_needs_a_session_that_may_view_the_wall(app: App) -> None:
    """Strangers and API keys cannot open a live connection."""
    without_message_queue(app)
    assert not app.socketio.test_client(app.server, flask_test_client=client_of(app)).is_connected()
    keyed = key_client(app)
    assert not app.socketio.test_client(app.server, flask_test_client=keyed).is_connected()


def test_a_session_ends_after_the_idle_time(app: App) -> None:
    """A desk left alone past the idle time needs a new sign-in."""
    client = signed_in(app, "duty", Role.COMMANDER)
    assert client.get("/api/snapshot").status_code == 200
    with app.store.sessions.begin() as db:
        db.execute(update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(hours=1)))
    assert client.get("/api/snapshot").status_code == 401


def test_a_session_ends_after_its_absolute_lifetime(app: App) -> None:
    """Even an active session ends after the absolute lifetime."""
    client = signed_in(app, "duty", Role.COMMANDER)
    with app.store.sessions.begin() as db:
        db.execute(update(LoginSession).values(created_at=datetime.now(UTC) - timedelta(days=1)))
    assert client.get("/api/snapshot").status_code == 401


def test_a_wall_never_idles_out_but_dies_with_its_token(app: App) -> None:
    """A display session untouched for a week still works, until its token is revoked."""
    client, _ = wall_client(app)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    with app.store.sessions.begin() as db:
        db.execute(update(LoginSession).values(last_seen_at=week_ago, created_at=week_ago))
    assert client.get("/api/snapshot").status_code == 200
    app.accounts.revoke("screen-1")
    assert client.get("/api/snapshot").status_code == 401


def test_wrong_passwords_lock_the_account_and_each_is_audited(app: App) -> None:
    """20 wrong passwords: 429 after the 5th, an audit row each; then locked, then not."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app)
    statuses = [
        client.post("/login", data={"username": "duty", "password": f"guess-{i}"}).status_code
        for i in range(20)
    ]
    assert statuses == [401] * 5 + [429] * 15
    rows = audit_rows(app, "sign_in")
    assert len(rows) == 20 and {row.actor for row in rows} == {"duty"}
    assert [row.result for row in rows] == ["failed"] * 5 + ["locked"] * 15
    assert all(row.address == "127.0.0.1" for row in rows)
    right = client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert right.status_code == 429 and "Too many failed sign-ins" in right.get_data(as_text=True)
    time.sleep(2.2)  # the lock-out window (login_lockout_s=2) passes
    assert client.post("/login", data={"username": "duty", "password": PASSWORD}).status_code == 302


def test_successful_sign_ins_are_not_throttled(app: App) -> None:
    """Only failures count: a commander signing in ten times is never locked."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    for _ in range(10):
        response = client_of(app).post("/login", data={"username": "duty", "password": PASSWORD})
        assert response.status_code == 302


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None])
def test_a_cross_site_sign_in_form_is_refused(app: App, origin: str | None) -> None:
    """Login CSRF: a form posted from another site (or with no origin) signs nobody in."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app, origin=origin)
    response = client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert response.status_code == 403


def test_a_cross_origin_json_post_is_refused_and_audited(app: App) -> None:
    """A signed-in commander's browser on an evil page cannot switch emergency mode."""
    client = signed_in(app, "duty", Role.COMMANDER)
    client.environ_base["HTTP_ORIGIN"] = "http://evil.example"
    assert client.post("/api/emergency", json=RAISE).status_code == 403
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 0
    assert audit_rows(app, "request")[-1].result == "refused"


def test_a_same_origin_referer_stands_in_for_a_missing_origin(app: App) -> None:
    """Without Origin, a Referer on this server is accepted."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app, origin=None)
    response = client.post(
        "/login",
        data={"username": "duty", "password": PASSWORD},
        headers={"Referer": "http://localhost/login"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/login", "/api/snapshot", "/api/kpis", "/nope", "/wall/"])
def test_security_headers_are_on_pages_api_answers_and_errors(app: App, path: str) -> None:
    """CSP (own origin only, no framing), nosniff and same-origin referrer everywhere."""
    response = client_of(app).get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp.replace("'self'", "")  # no outside origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_csp_allows_dashs_inline_scripts_by_hash(app: App) -> None:
    """Dash's renderer start-up script is allowed by its hash, not by 'unsafe-inline'."""
    client = signed_in(app, "duty", Role.COMMANDER)
    csp = client.get("/desk/").headers["Content-Security-Policy"]
    script = next(part for part in csp.split("; ") if part.startswith("script-src"))
    assert "'sha256-" in script and "unsafe-inline" not in script and "unsafe-eval" not in script


def test_the_tile_host_is_allowed_for_images(settings: Settings, engine) -> None:
    """The configured intranet tile host, and only it, joins img-src."""
    app = create_app(
        settings.with_(tile_url="http://tiles.gov.local/{z}/{x}/{y}.png"), engine=engine
    )
    csp = client_of(app).get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: http://tiles.gov.local" in csp


def test_behind_a_tls_proxy_the_cookie_is_secure(settings: Settings, engine) -> None:
    """With https and one trusted proxy: Secure cookie, HSTS, the proxy's scheme believed."""
    app = create_app(settings.with_(https=True, trusted_proxies=1), engine=engine)
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app, origin="https://hall.gov.local")
    client.environ_base.update(
        HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="hall.gov.local"
    )
    response = client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_forwarded_headers_are_ignored_without_trusted_proxies(app: App) -> None:
    """X-Forwarded-Host from a client is not believed: the Origin check still refuses."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app, origin="http://evil.example")
    client.environ_base["HTTP_X_FORWARDED_HOST"] = "evil.example"
    assert client.post("/login", data={"username": "duty", "password": PASSWORD}).status_code == 403


def test_passwords_are_scrypt_hashes_of_a_minimum_length(app: App) -> None:
    """A short password is refused; a stored one is a scrypt hash."""
    with pytest.raises(AuthError, match="at least 10"):
        app.accounts.create_user("short", "nine-char", Role.VIEWER)
    assert app.accounts.create_user("long", PASSWORD, Role.VIEWER).password_hash.startswith(
        "scrypt:"
    )


def test_a_generated_password_must_be_changed_at_first_sign_in(app: App) -> None:
    """Signed in with a generated password, a user can only change it; then all opens."""
    app.accounts.create_user("new", "generated-1234", Role.VIEWER, must_change=True)
    client = client_of(app)
    response = client.post("/login", data={"username": "new", "password": "generated-1234"})
    assert response.headers["Location"] == "/password"
    assert client.get("/desk/").headers["Location"] == "/password"
    assert client.get("/api/snapshot").status_code == 403
    changed = client.post(
        "/password",
        data={"current": "generated-1234", "new": "my-own-pass-1", "repeat": "my-own-pass-1"},
    )
    assert changed.status_code == 302 and client.get("/api/snapshot").status_code == 200


def test_an_api_key_reads_the_api_and_open311_only(app: App) -> None:
    """A read key reads JSON and Open311, opens no page, switches nothing."""
    client = key_client(app)
    assert client.get("/api/kpis").status_code == 200
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/desk/").status_code == 302  # a key is no sign-in for pages
    assert client.post("/api/emergency", json=RAISE).status_code == 403


def test_a_revoked_api_key_is_refused_at_once(app: App) -> None:
    """Revoking a key refuses its very next request."""
    client = key_client(app, "feed")
    assert client.get("/api/kpis").status_code == 200
    assert app.apikeys.revoke("feed") == 1
    assert client.get("/api/kpis").status_code == 401


def test_an_api_key_is_audited_on_first_use_each_day(app: App) -> None:
    """Three reads make one audit row (a poller would flood the trail otherwise)."""
    client = key_client(app, "feed")
    for _ in range(3):
        client.get("/api/boards")
    rows = audit_rows(app, "apikey.used")
    assert len(rows) == 1 and rows[0].actor == "key:feed"


def test_the_admin_sees_the_audit_and_exports_it_without_formulas(app: App) -> None:
    """/admin/audit filters by user; its CSV makes a formula-looking name inert."""
    client_of(app).post("/login", data={"username": "=HYPERLINK(1)", "password": "wrong-pass"})
    admin = signed_in(app, "root", Role.ADMIN)
    page = admin.get("/admin/audit?action=sign_in&result=failed").get_data(as_text=True)
    assert "=HYPERLINK(1)" in page and "<script" not in page.split("</style>")[1]
    exported = admin.get("/admin/audit.csv?action=sign_in").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in exported
    assert signed_in(app, "duty", Role.COMMANDER).get("/admin/audit").status_code == 403


def test_old_audit_rows_are_archived_not_dropped(app: App, tmp_path) -> None:
    """Rows past the retention go to a gzipped file, then leave the table."""
    import gzip

    from dashboard.store import audit

    with app.store.sessions.begin() as db:
        audit.record(db, "old", "sign_in", "ok")
        audit.record(db, "new", "sign_in", "ok")
        db.execute(
            update(AuditEntry)
            .where(AuditEntry.actor == "old")
            .values(at=datetime.now(UTC) - timedelta(days=200))
        )
    with pytest.raises(ValueError, match="180"):
        audit.archive(app.store.sessions, tmp_path, 30, datetime.now(UTC))
    assert audit.archive(app.store.sessions, tmp_path, 180, datetime.now(UTC)) == 1
    (archived,) = tmp_path.glob("audit-*.jsonl.gz")
    assert '"actor": "old"' in gzip.open(archived, "rt").read()
    assert [row.actor for row in audit_rows(app, "sign_in")] == ["new"]


def test_every_sign_in_and_sign_out_is_audited(app: App) -> None:
    """Success, failure and sign-out each leave a row with the address."""
    client = signed_in(app, "duty", Role.COMMANDER)
    client_of(app).post("/login", data={"username": "duty", "password": "wrong-pass"})
    client.get("/logout")
    results = [(row.action, row.result) for row in audit_rows(app, "sign_in")]
    assert results == [("sign_in", "ok"), ("sign_in", "failed")]
    assert audit_rows(app, "sign_out")[0].address == "127.0.0.1"


def test_a_kept_database_gains_the_new_account_columns(tmp_path) -> None:
    """A data folder from before issue 12 (users without disabled_at…) still opens."""
    from sqlalchemy import create_engine, inspect, text

    from dashboard.store.db import init_db

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(64), "
                "password_hash VARCHAR(256), role VARCHAR(16), created_at DATETIME)"
            )
        )
    init_db(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("users")}
    assert {"disabled_at", "must_change_password"} <= columns
