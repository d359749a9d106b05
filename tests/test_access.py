"""The permission matrix: every route and the live connection × every principal.

Exactly the principals the table below names may use each route; everyone else is
refused (401/403, or sent to sign in). A route nobody classified fails the test, so a
new route needs a decision here. Run with -s to see the matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.domain.access import Role, permission_table
from dashboard.settings import Settings
from tests.test_docs import README
from tests.test_security import without_message_queue
from tests.webclients import client_of, key_client, signed_in, wall_client

PEOPLE = {"viewer", "leader", "commander", "admin"}
WALL = PEOPLE | {"display"}
API = PEOPLE | {"apikey"}
PRINCIPALS = ("anonymous", "display", "revoked display", "apikey", "revoked key", "viewer",
              "leader", "commander", "admin", "disabled user")  # fmt: skip
EVERYONE = set(PRINCIPALS)
SAMPLES = {"case_id": "C1", "emergency_id": "1", "path": "x", "package_name": "dash",
           "fingerprinted_path": "dash.v1.js", "filename": "wall.css", "form": "json",
           "request_id": "C1", "action": "urge"}  # fmt: skip
# Tested on their own: signing in with an empty form is a failure for anyone, and
# signing out would end the very sessions this matrix uses.
ELSEWHERE = {("POST", "/login"), ("GET", "/logout"), ("POST", "/logout")}


def who_may(method: str, rule: str) -> set[str]:
    """The principals that may use a route: the specification, written out."""
    if rule in ("/healthz", "/healthz/live", "/healthz/ready", "/login") or re.match(
        r"^/(wall|desk|tablet)/(assets/|_dash-component-suites/|_favicon\.ico)", rule
    ):
        return EVERYONE
    if rule in ("/api/snapshot", "/api/emergency") and method == "GET":
        return WALL | {"apikey"}
    if rule in ("/api/emergency", "/api/cases/<case_id>/<action>", "/api/desk/acks") and (
        method == "POST"
    ):
        return {"commander"}  # switch, urge (the sample action), acknowledge
    if rule == "/api/screens/latency":
        return WALL  # every screen reports its push delays
    if rule == "/metrics":
        return API  # and the addresses of --metrics-allow (none here)
    if rule.startswith("/api/desk/"):
        return PEOPLE
    if rule.startswith(("/api/", "/open311/v2/")):
        return API
    if rule.startswith("/admin/"):
        return {"admin"}
    if rule.startswith("/wall/"):
        return WALL
    if rule.startswith(("/desk/", "/tablet/")) or rule in ("/", "/password"):
        return PEOPLE
    raise AssertionError(f"{method} {rule}: nobody decided who may use it")


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application, its live push in-process for Socket.IO's test client."""
    yield without_message_queue(create_app(settings, engine=engine, redis_url=settings.redis_url))


def principals(app: App) -> dict[str, FlaskClient]:
    """A client for each kind of principal, revoked and disabled ones included."""
    clients = {name: signed_in(app, name, Role(name)) for name in PEOPLE}
    clients["anonymous"] = client_of(app)
    clients["display"], _ = wall_client(app, "screen-1")
    clients["revoked display"], _ = wall_client(app, "screen-2")
    app.accounts.revoke("screen-2")
    clients["apikey"] = key_client(app, "feed")
    clients["revoked key"] = key_client(app, "old-feed")
    app.apikeys.revoke("old-feed")
    clients["disabled user"] = signed_in(app, "gone", Role.COMMANDER)
    app.accounts.disable("gone")
    return clients


def succeeded(response) -> bool:
    """Whether the request got through the guard (a 400 or 404 did get through)."""
    if response.status_code in (401, 403):
        return False
    return not response.headers.get("Location", "").startswith("/login")


def routes(app: App) -> list[tuple[str, str, str]]:
    """(method, rule, a URL of it) for every route of the server."""
    found = []
    for rule in app.server.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLES[m.group(1)], rule.rule)
        found += [(m, rule.rule, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return [route for route in found if route[:2] not in ELSEWHERE]


def test_every_route_admits_exactly_the_permitted_principals(app: App) -> None:
    """The matrix: each route × each principal succeeds exactly when the table says so."""
    clients = principals(app)
    wrong, lines = [], [" " * 52 + " ".join(f"{p[:9]:>9}" for p in PRINCIPALS)]
    for method, rule, url in routes(app):
        allowed, row = who_may(method, rule), []
        for name in PRINCIPALS:
            call = clients[name].post if method == "POST" else clients[name].get
            response = call(url, json={}) if method == "POST" else call(url)
            ok = succeeded(response)
            row.append("yes" if ok else "-")
            if ok != (name in allowed):
                wrong.append(f"{method} {url} as {name}: {response.status_code}")
        lines.append(f"{method:4} {rule[:47]:47} " + " ".join(f"{c:>9}" for c in row))
    print("\n".join(lines))
    assert not wrong, "\n".join(wrong)


def test_the_live_connection_admits_wall_viewers_only(app: App) -> None:
    """Socket.IO connects for a live session that may view the wall, nobody else."""
    clients = principals(app)
    for name in PRINCIPALS:
        live = app.socketio.test_client(app.server, flask_test_client=clients[name])
        assert live.is_connected() == (name in WALL), name
        if live.is_connected():
            live.disconnect()


def test_the_readme_shows_the_permission_table() -> None:
    """Each permission's row in the README names exactly the roles the code gives it."""
    for permission, roles in permission_table():
        assert f"| `{permission}` | {', '.join(roles)} |" in README, permission
