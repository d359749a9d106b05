"""Issue 20's second security pass, each finding as a regression test."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard import runtime
from dashboard.app import App, create_app
from dashboard.domain.access import Permission, Role
from dashboard.process import demo
from dashboard.settings import Settings
from dashboard.web import guard
from dashboard.web.actions import ACTIONS
from streams.consumer import Item
from streams.names import lane_key
from streams.schema import validate
from tests.stories import story
from tests.webclients import client_of, key_client, signed_in, wall_client

JSON = "application/json"
RAISE = {"action": "raise", "hazard": "typhoon", "level": "red", "reason": "signal 10"}


@pytest.fixture
def umask() -> Iterator[None]:
    """The usual umask (022), whatever the test runner was started with."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    """The permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_hall_keeps_its_data_folder_and_secrets_private(
    tmp_path: Path, redis_url: str, umask: None
) -> None:
    """A hall made from nothing: the data folder 0700, database and secrets 0600."""
    settings = Settings(data_dir=str(tmp_path / "hall"), redis_url=redis_url)
    folder = runtime.data_folder(settings)
    demo.prepare(settings, folder)
    create_app(settings).engine.dispose()
    assert mode(folder) == 0o700
    secrets = ("secret.key", "commander.password", "wall.token", "commandhall.db")
    found = {
        f.name: mode(f) for f in [*folder.glob("commandhall.db*"), *map(folder.joinpath, secrets)]
    }
    assert found == dict.fromkeys(found, 0o600) and len(found) >= 4


def test_a_kept_data_folder_made_looser_is_tightened(
    tmp_path: Path, redis_url: str, umask: None
) -> None:
    """A data folder from before (0755, database 0644) is made private at start."""
    folder = tmp_path / "hall"
    folder.mkdir(mode=0o755)
    (folder / "commandhall.db").touch(mode=0o644)
    create_app(Settings(data_dir=str(folder), redis_url=redis_url)).engine.dispose()
    assert (mode(folder), mode(folder / "commandhall.db")) == (0o700, 0o600)


# --- the request size limit ------------------------------------------------------------

TWO_MIB = 2 * 1024 * 1024


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application on this test's Redis and database."""
    yield create_app(settings, engine=engine, redis_url=settings.redis_url)


def test_a_huge_dash_callback_with_a_walls_cookie_is_refused_unread(app: App) -> None:
    """2 MiB to /wall/_dash-update-component: 413 in JSON, not parsed."""
    client, _ = wall_client(app)
    body = json.dumps({"output": "wall-boards.children", "pad": "x" * TWO_MIB})
    response = client.post("/wall/_dash-update-component", data=body, content_type=JSON)
    assert response.status_code == 413 and "at most 1048576 bytes" in response.get_json()["error"]


def test_a_huge_api_post_is_refused_in_json(app: App) -> None:
    """2 MiB to POST /api/emergency from a commander: 413 JSON, nothing published."""
    client = signed_in(app, "duty", Role.COMMANDER)
    response = client.post("/api/emergency", json={**RAISE, "reason": "x" * TWO_MIB})
    assert response.status_code == 413 and response.get_json()["max_bytes"] == 1_048_576
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 0


def test_a_huge_chunked_body_is_cut_as_it_is_read(app: App) -> None:
    """A body without Content-Length (chunked) is refused once it passes the limit."""
    client = signed_in(app, "duty", Role.COMMANDER)
    body = json.dumps({**RAISE, "reason": "x" * TWO_MIB}).encode()
    response = client.post(
        "/api/emergency", input_stream=io.BytesIO(body), content_type=JSON,
        environ_overrides={"wsgi.input_terminated": True},
    )  # fmt: skip
    assert response.status_code == 413 and "error" in response.get_json()


def test_a_huge_sign_in_form_gets_a_page(app: App) -> None:
    """People's forms get the refusal as a page, with the same 413."""
    response = client_of(app).post("/login", data={"username": "x" * TWO_MIB})
    assert response.status_code == 413 and "text/html" in response.content_type


# --- the Origin check ------------------------------------------------------------------


def story_app(app: App) -> App:
    """The app with one open case, A1."""
    events = story("A1", datetime.now(UTC), "sanitation")
    app.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    return app


def test_an_authorization_header_does_not_lift_the_origin_check(app: App) -> None:
    """Origin evil + `Authorization: Basic …` + the commander's cookie: the urge is 403."""
    client = signed_in(story_app(app), "duty", Role.COMMANDER)
    client.environ_base.update(
        HTTP_ORIGIN="http://evil.example", HTTP_AUTHORIZATION="Basic ZHV0eTpndWVzcw=="
    )
    response = client.post("/api/cases/A1/urge", json={"note": "from an evil page"})
    assert response.status_code == 403 and "cross-origin" in response.get_json()["error"]
    assert app.redis.xlen(lane_key(app.settings.stream_key)) == 0


def test_a_bearer_key_with_a_session_cookie_is_still_checked(app: App) -> None:
    """A real key does not lift the check for a request that also carries the cookie."""
    client = signed_in(story_app(app), "duty", Role.COMMANDER)
    client.environ_base.update(
        HTTP_ORIGIN="http://evil.example",
        HTTP_AUTHORIZATION="Bearer " + app.apikeys.create("feed"),
    )
    response = client.post("/api/cases/A1/urge", json={"note": "from an evil page"})
    assert response.status_code == 403 and "cross-origin" in response.get_json()["error"]


def test_a_real_api_key_without_a_cookie_passes_the_origin_check(app: App) -> None:
    """A key alone, from any origin, reaches the guard (which lets it only read)."""
    client = key_client(app)
    client.environ_base["HTTP_ORIGIN"] = "http://evil.example"
    response = client.post("/api/emergency", json=RAISE)
    assert response.status_code == 403 and "not permitted" in response.get_json()["error"]


# --- the guard refuses what its table does not list ------------------------------------

# Sample values for a rule's variables; an action is tried as each one there is.
SAMPLES = {"case_id": ["C1"], "emergency_id": ["1"], "path": ["x"], "package_name": ["dash"],
           "fingerprinted_path": ["dash.v1.js"], "filename": ["wall.css"], "form": ["json"],
           "request_id": ["C1"], "action": list(ACTIONS)}  # fmt: skip
# What Dash serves under each view's prefix (its own routes, as Dash names them).
DASH_ROUTES = (("GET", "_dash-layout"), ("GET", "_dash-dependencies"), ("GET", "_reload-hash"),
               ("POST", "_dash-update-component"), ("GET", "assets/wall.css"),
               ("GET", "_dash-component-suites/dash/dash.v1.js"), ("GET", "_favicon.ico"),
               ("GET", ""))  # fmt: skip


def urls_of(rule: str) -> list[str]:
    """A URL of the rule for each sample of its variables."""
    names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
    urls = [rule]
    for name in names:
        pattern = re.compile(rf"<(?:[^:>]+:)?{name}>")
        urls = [pattern.sub(value, url) for url in urls for value in SAMPLES[name]]
    return urls


def test_every_flask_route_has_a_row_in_the_guards_table(app: App) -> None:
    """Every rule of the URL map, for each of its methods, has an explicit decision."""
    missing = [
        f"{method} {url}"
        for rule in app.server.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        for url in urls_of(rule.rule)
        if guard.row_for(url, method) is None
    ]
    assert not missing, missing


@pytest.mark.parametrize("view", ["wall", "desk", "tablet"])
def test_every_dash_route_has_a_row_in_the_guards_table(app: App, view: str) -> None:
    """Each Dash app's layout, callbacks, reload hash, assets and bundles are decided."""
    adapter = app.server.url_map.bind("localhost")
    for method, part in DASH_ROUTES:
        url = f"/{view}/{part}"
        adapter.match(url, method=method)  # a route of the server, not a guess
        assert guard.row_for(url, method) is not None, (method, url)


def test_the_live_connection_has_a_row_in_the_guards_table() -> None:
    """Socket.IO's path is decided too (view_wall; its connect handler checks again)."""
    assert guard.row_for("/socket.io/", "GET").needs == {Permission.VIEW_WALL}


@pytest.mark.parametrize("path", ["/tomorrows-page", "/api/tomorrow"])
def test_a_route_without_a_row_is_refused_even_to_an_admin(app: App, path: str) -> None:
    """A route added without a table row is open to nobody (on main: to every viewer)."""
    app.server.add_url_rule(path, path, lambda: "secret figures")
    for client in (signed_in(app, "root", Role.ADMIN), key_client(app), client_of(app)):
        response = client.get(path)
        assert response.status_code == 404 and "secret" not in response.get_data(as_text=True)


def test_an_unknown_case_action_is_refused_for_everybody(app: App) -> None:
    """POST /api/cases/A1/<not an action>: no row, so 404 even for a commander."""
    client = signed_in(story_app(app), "duty", Role.COMMANDER)
    assert client.post("/api/cases/A1/delete", json={"note": "x"}).status_code == 404
