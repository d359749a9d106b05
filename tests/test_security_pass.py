"""Issue 20's second security pass, each finding as a regression test."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select
from werkzeug.serving import make_server

from dashboard import runtime
from dashboard.app import App, create_app
from dashboard.domain.access import Permission, Role
from dashboard.process import demo
from dashboard.settings import Settings
from dashboard.store.models import AuditEntry
from dashboard.web import guard
from dashboard.web.actions import ACTIONS
from dashboard.web.throttle import Throttle
from streams.consumer import Item
from streams.names import lane_key
from streams.schema import validate
from tests.stories import story
from tests.webclients import PASSWORD, client_of, key_client, signed_in, wall_client

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


def test_an_unknown_case_action_is_refused_to_whoever_may_not_act(app: App) -> None:
    """POST /api/cases/A1/<not an action>: a viewer is refused (403), a commander told why."""
    story_app(app)
    viewer = signed_in(app, "v", Role.VIEWER)
    assert viewer.post("/api/cases/A1/delete", json={"note": "x"}).status_code == 403
    commander = signed_in(app, "duty", Role.COMMANDER)
    response = commander.post("/api/cases/A1/delete", json={"note": "xx"})
    assert (response.status_code, response.get_json()["key"]) == (400, "err_action")


# --- sign-in throttling that holds under concurrency ------------------------------------

PARALLEL = 40
RIGHT_AT = 29  # the 30th attempt carries the right password


@contextmanager
def serving(app: App) -> Iterator[str]:
    """The app behind a real threaded WSGI server (the test client is not concurrent)."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 is the answer we look at, not a page to follow


def post(base: str, path: str, form: dict[str, str], cookie: str = "") -> tuple[int, Any]:
    """POST a form as this server's own page would; the status and headers."""
    headers = {"Origin": base, **({"Cookie": cookie} if cookie else {})}
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=60) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers


def all_at_once(base: str, path: str, forms: list[dict[str, str]], cookie: str = "") -> list[int]:
    """Every form POSTed at the same moment from threads of its own; the statuses."""
    start = threading.Barrier(len(forms))

    def one(form: dict[str, str]) -> int:
        start.wait()
        return post(base, path, form, cookie)[0]

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(one, forms))


def guesses(field: str, right: str, **rest: str) -> list[dict[str, str]]:
    """Forty forms of wrong guesses, the right one 30th."""
    forms = [{**rest, field: f"wrong-guess-{i}"} for i in range(PARALLEL)]
    forms[RIGHT_AT][field] = right
    return forms


def audit_results(app: App, action: str) -> list[str]:
    """The results of an action's audit rows."""
    with app.store.sessions() as db:
        query = select(AuditEntry.result).where(AuditEntry.action == action)
        return list(db.scalars(query))


def test_forty_parallel_sign_ins_check_no_more_guesses_than_the_limit(app: App) -> None:
    """40 at once, the right password 30th: at most 5 passwords checked wrong, and the
    right one at most once more (a right one gives its place back); the rest 429."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    with serving(app) as base:
        statuses = all_at_once(base, "/login", guesses("password", PASSWORD, username="duty"))
    assert statuses.count(401) <= 5 and statuses.count(302) <= 1, statuses
    assert statuses.count(429) >= PARALLEL - 6 and set(statuses) <= {401, 302, 429}
    assert audit_results(app, "sign_in").count("locked") == statuses.count(429)


def test_the_right_password_beyond_the_limit_is_refused_unchecked(app: App) -> None:
    """After 5 failures, 40 at once with the right password among them: all 429."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    client = client_of(app)
    for i in range(5):
        client.post("/login", data={"username": "duty", "password": f"guess-{i}"})
    with serving(app) as base:
        statuses = all_at_once(base, "/login", guesses("password", PASSWORD, username="duty"))
    assert statuses == [429] * PARALLEL


def test_forty_parallel_password_changes_check_no_more_than_the_limit(app: App) -> None:
    """A stolen session guessing the current password on /password is throttled the
    same way: at most 5 wrong current passwords checked of 40 sent at once."""
    app.accounts.create_user("duty", PASSWORD, Role.COMMANDER)
    with serving(app) as base:
        status, headers = post(base, "/login", {"username": "duty", "password": PASSWORD})
        assert status == 302
        cookie = headers["Set-Cookie"].split(";")[0]
        forms = guesses("current", PASSWORD, new="brand-new-pass-1", repeat="brand-new-pass-1")
        statuses = all_at_once(base, "/password", forms, cookie)
    assert statuses.count(400) <= 5 and statuses.count(302) <= 1, statuses
    assert statuses.count(429) >= PARALLEL - 6 and set(statuses) <= {400, 302, 429}
    assert audit_results(app, "password.change").count("locked") == statuses.count(429)


def test_a_locked_account_cannot_sign_in_while_password_guesses_hold_it(app: App) -> None:
    """Guesses at /password and at /login count against the same account."""
    client = signed_in(app, "duty", Role.COMMANDER)
    for i in range(5):
        wrong = {"current": f"guess-{i}", "new": "brand-new-pass-1", "repeat": "brand-new-pass-1"}
        assert client.post("/password", data=wrong).status_code == 400
    again = client_of(app).post("/login", data={"username": "duty", "password": PASSWORD})
    assert again.status_code == 429


def test_without_redis_each_process_still_counts_guesses(tmp_path: Path) -> None:
    """Redis gone: attempts are counted in memory, so the limit holds, nobody is locked."""
    server = runtime.EmbeddedRedis(tmp_path / "redis")
    client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
    throttle = Throttle(client, "test:throttle", 60)
    server.stop()
    attempts = [throttle.reserve([("account:duty", 5)]) for _ in range(5)]
    attempts[0].give_back()  # a right password
    more = [throttle.reserve([("account:duty", 5)]).allowed for _ in range(2)]
    assert all(a.allowed for a in attempts) and more == [True, False]


def test_a_place_given_back_after_expiry_leaves_no_negative_count(redis_client, stream_key):
    """A counter that expired meanwhile is not driven below zero by a late give-back."""
    throttle = Throttle(redis_client, stream_key, 60)
    attempt = throttle.reserve([("account:duty", 1)])
    redis_client.delete(throttle.key("account:duty"))
    attempt.give_back()
    assert redis_client.get(throttle.key("account:duty")) is None
