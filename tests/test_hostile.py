"""No event and no request takes the hall down (issue 20): the whole path under hostile input.

Hypothesis writes events the contract accepts, with hostile text in every free-text
field and codes nobody knows, onto a real stream; a real ingest applies them; then
every route of Flask's URL map and every server callback of the three Dash pages is
asked, as every kind of principal, with hostile queries and bodies. Nothing may answer
5xx or raise; JSON is strict, XML parses, CSV cells are defused, HTML is escaped. A
fresh `serve` must boot on the same data.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import got_request_exception, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.web.actions import ACTIONS
from streams.consumer import lag
from streams.producer import Producer
from tests import hostile
from tests.hall import Hall
from tests.test_ingest import drain, make_ingest
from tests.webclients import client_of, key_client, signed_in, wall_client

VIEWS = ("wall", "desk", "tablet")
# Every query parameter a view reads (grep request.args, DeskFilter.from_query,
# Open311's filters): each is sent hostile.
QUERY_NAMES = ("q", "dep", "dis", "kind", "major", "cat", "src", "st", "light", "u", "sv",
               "closed", "period", "value", "month", "by", "screen", "next", "token",
               "start_date", "end_date", "status", "service_request_id", "service_code",
               "from", "to", "actor", "action", "result", "user", "at", "case", "unit",
               "district")  # fmt: skip
HOSTILE_QUERY = st.lists(
    st.tuples(st.sampled_from(QUERY_NAMES), hostile.hostile_text), min_size=1, max_size=6
)
HOSTILE_BODY = st.dictionaries(
    st.sampled_from(["action", "hazard", "level", "reason", "note", "keys", "views"]),
    st.one_of(hostile.hostile_text, st.integers(), st.none(), st.lists(hostile.hostile_text)),
)


@dataclass
class Hostile:
    """An app on a stream of its own, its ingest, and a client for every principal."""

    app: App
    producer: Producer
    ingest: Any
    clients: dict[str, FlaskClient]
    case_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Write events to the stream and let the real ingest apply them."""
        for event in events:
            self.producer.publish(event)
            if event.get("case_id") and event["case_id"] not in self.case_ids:
                self.case_ids.append(event["case_id"])
        drain(self.ingest)


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hostile]:
    """One hall for the module: hostile data accumulates across examples, as in life."""
    folder = tmp_path_factory.mktemp("hostile")
    key = f"test:{uuid.uuid4().hex[:12]}:cases"
    config = Settings(data_dir=str(folder), redis_url=redis_url, stream_key=key,
                      consumer_group="hostile", login_failures=1000)  # fmt: skip
    app = create_app(config, redis_url=redis_url)
    client = redis.Redis.from_url(redis_url)
    ingest = make_ingest(client, app.store, config, "hostile-ingest")
    clients = {"anonymous": client_of(app), "apikey": key_client(app)}
    for role in (Role.ADMIN, Role.COMMANDER, Role.LEADER, Role.VIEWER):
        clients[role.value] = signed_in(app, f"h-{role.value}", role)
    clients["display"] = wall_client(app)[0]
    found = Hostile(app, Producer(client, key), ingest, clients)
    got_request_exception.connect(found_exception(found), app.server, weak=False)
    yield found
    for stale in client.scan_iter(match=key + "*"):
        client.delete(stale)


def found_exception(hall: Hostile) -> Any:
    """A signal handler that keeps every exception a view raised, with its request."""

    def keep(sender: Any, exception: BaseException, **_: Any) -> None:
        hall.problems.append(f"{request.method} {request.full_path}: raised {exception!r}"[:300])

    return keep


def route_urls(hall: Hostile, rule: Any, query: list[tuple[str, str]]) -> list[str]:
    """Addresses for one rule of the URL map: its arguments filled, plain and hostile."""
    values: dict[str, list[Any]] = {
        "case_id": hall.case_ids[-3:] + ["NOPE-1"],
        "action": [*ACTIONS, "bogus"],
        "emergency_id": [1, 2, 99999],
        "form": ["json", "xml"],
        "request_id": hall.case_ids[-2:] + ["NOPE-1"],
        "path": ["somewhere/else"],
        "filename": ["nothing-here.css"],
        "package_name": ["dash"],
        "fingerprinted_path": ["nothing.js"],
    }
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"the walker does not know how to fill {unknown} of {rule.rule}"
    urls = []
    for args in combinations(rule.arguments, values):
        path = hall.app.server.url_map.bind("localhost").build(rule.endpoint, args)
        urls += [path, f"{path}?{urllib.parse.urlencode(query)}"]
    return urls


def combinations(names: Any, values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Each value of each argument once (not their product: the walk stays small)."""
    names = sorted(names)
    if not names:
        return [{}]
    longest = max(len(values[name]) for name in names)
    return [{name: values[name][i % len(values[name])] for name in names} for i in range(longest)]


def judge(hall: Hostile, who: str, method: str, url: str, response: Any) -> None:
    """Record what is wrong with one answer."""
    where = f"{who} {method} {url[:120]}"
    if response.status_code >= 500:
        hall.problems.append(f"{where}: {response.status_code}")
        return
    kind, body = response.mimetype or "", response.get_data()
    problem = None
    if kind.endswith("json"):
        problem = hostile.strict_json(body.decode("utf-8"))
    elif kind.endswith("xml"):
        problem = hostile.xml_problem(body)
    elif kind == "text/csv":
        problem = hostile.csv_problem(body)
    elif kind == "text/html":
        problem = hostile.html_problem(body.decode("utf-8", "replace"))
    if problem:
        hall.problems.append(f"{where}: {problem}")


def walk_routes(hall: Hostile, query: list[tuple[str, str]], body: dict[str, Any]) -> None:
    """Every rule of the URL map, every method, as every principal."""
    for rule in hall.app.server.url_map.iter_rules():
        if rule.rule == "/logout":
            continue  # it would sign the walkers out; nothing there reads input
        for url in route_urls(hall, rule, query):
            for who, client in hall.clients.items():
                if "GET" in rule.methods:
                    judge(hall, who, "GET", url, client.get(url))
                if "POST" in rule.methods and not url.startswith("/login"):
                    judge(hall, who, "POST", url, client.post(url, json=body))
                    broken = client.post(url, data="[1, 2", content_type="application/json")
                    judge(hall, who, "POST", url, broken)
    anonymous = hall.clients["anonymous"]
    login = {"username": str(body.get("note", "x")), "password": str(body.get("reason", "x"))}
    judge(hall, "anonymous", "POST", "/login", anonymous.post("/login", data=login))


def callbacks(hall: Hostile, view: str) -> list[dict[str, Any]]:
    """The view's server callbacks, as its page learns them from _dash-dependencies."""
    client = hall.clients["admin" if view != "wall" else "display"]
    found = client.get(f"/{view}/_dash-dependencies").get_json()
    return [item for item in found if not item.get("clientside_function")]


def prop_values(hall: Hostile, prop: str, text: str) -> list[Any]:
    """Values a page could send for a property, hostile and real."""
    case = hall.case_ids[-1] if hall.case_ids else "NOPE-1"
    return {
        "n_clicks": [1, None],
        "submit_n_clicks": [1],
        "n_intervals": [1],
        "selectedRows": [[{"id": case}], [{"id": text}], [{"nothing": 1}], None, "x"],
        "search": [f"?case={case}", f"?unit={urllib.parse.quote(text)}",
                   f"?district={urllib.parse.quote(text)}", f"?case={urllib.parse.quote(text)}",
                   text, None],
        "data": [text, None, {"x": text}],
    }.get(prop, [text, None, 7, [text]])  # fmt: skip


def spec_of(spec: dict[str, Any], hall: Hostile, pick: int, text: str) -> Any:
    """One input or state of a callback request, with a value."""
    if spec["id"].startswith("{"):  # a pattern id: one concrete component per action
        pattern = json.loads(spec["id"])
        concrete = [{**pattern, "action": action} for action in ACTIONS]
        return [{"id": one, "property": spec["property"], "value": 1} for one in concrete]
    values = prop_values(hall, spec["property"], text)
    return {**spec, "value": values[pick % len(values)]}


def outputs_of(output: str) -> list[dict[str, str]]:
    """Dash's output string ("a.b" or "..a.b...c.d..") as id/property pairs."""
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


def walk_callbacks(hall: Hostile, text: str) -> None:
    """Every server callback of every view, with real and hostile values, as everyone."""
    for view in VIEWS:
        for item in callbacks(hall, view):
            outputs = outputs_of(item["output"])
            for pick in range(6):
                inputs = [spec_of(spec, hall, pick, text) for spec in item["inputs"]]
                state = [spec_of(spec, hall, pick, text) for spec in item["state"]]
                first = inputs[0][0] if isinstance(inputs[0], list) else inputs[0]
                changed = first["id"]
                if isinstance(changed, dict):  # as Dash writes a pattern id
                    changed = json.dumps(changed, sort_keys=True, separators=(",", ":"))
                payload = {"output": item["output"],
                           "outputs": outputs if len(outputs) > 1 else outputs[0],
                           "inputs": inputs, "state": state,
                           "changedPropIds": [f"{changed}.{first['property']}"]}  # fmt: skip
                url = f"/{view}/_dash-update-component"
                for who, client in hall.clients.items():
                    judge(hall, who, f"POST {item['output']}", url, client.post(url, json=payload))


def report(hall: Hostile) -> None:
    """Fail with what went wrong (or, exploring, append it to HOSTILE_COLLECT's file)."""
    problems, hall.problems[:] = sorted(set(hall.problems)), []
    collect = os.environ.get("HOSTILE_COLLECT")
    if collect and problems:
        with open(collect, "a", encoding="utf-8") as out:
            out.write("\n".join(problems) + "\n")
        return
    assert not problems, f"{len(problems)} problems, first:\n" + "\n".join(problems[:25])


@settings(
    max_examples=3,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(events=hostile.fixed_stream(), query=[("q", hostile.MARKUP)], body={"note": "x"},
         text=hostile.MARKUP)  # fmt: skip
@given(events=hostile.hostile_stream(), query=HOSTILE_QUERY, body=HOSTILE_BODY,
       text=hostile.hostile_text)  # fmt: skip
def test_every_route_renders_whatever_the_contract_accepts(
    hall: Hostile, events: list[dict[str, Any]], query: Any, body: Any, text: str
) -> None:
    """Hostile events through a real ingest; every route and callback answers, as anyone."""
    hall.publish(events)
    walk_routes(hall, query, body)
    walk_callbacks(hall, text)
    report(hall)


def signed_in_opener(hall: Hall, username: str, password: str) -> urllib.request.OpenerDirector:
    """A urllib opener carrying a session cookie of a real server."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    sign_in = urllib.request.Request(
        f"{hall.base_url}/login", data=form, headers={"Origin": hall.base_url}
    )
    opener.open(sign_in, timeout=30)
    return opener


def wait_applied(hall: Hall, client: redis.Redis) -> None:
    """Until the ingest group has taken and acknowledged everything on the stream."""
    for _ in range(600):
        behind = lag(client, hall.settings.stream_key, hall.settings.consumer_group)
        if behind == {"undelivered": 0, "pending": 0}:
            return
        time.sleep(0.1)
    raise AssertionError("ingest never caught up")


def test_a_fresh_serve_boots_on_whatever_the_contract_accepts(
    tmp_path: Path, redis_url: str
) -> None:
    """After the hostile corpus, a restarted `serve` boots and every page answers."""
    hall = Hall(tmp_path / "hall", redis_url)
    try:
        for event in hostile.fixed_stream():
            hall.producer.publish(event)
        wait_applied(hall, redis.Redis.from_url(redis_url))
        hall.stop_web()
        hall.start_web()  # raises when the server does not come back
        password = hall.add_user("boot-admin", Role.ADMIN)
        opener = signed_in_opener(hall, "boot-admin", password)
        for view in VIEWS:
            for path in (f"/{view}/", f"/{view}/_dash-layout"):
                with opener.open(f"{hall.base_url}{path}", timeout=60) as answer:
                    assert answer.status == 200, path
    finally:
        hall.stop()
