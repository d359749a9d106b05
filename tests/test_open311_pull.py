"""`open311 pull` against a GeoReport v2 server started here, serving Chicago's records."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.feeds.open311 import Client, Puller, ServerError, poll_with_retries
from dashboard.feeds.stories import CityMapping
from dashboard.web.open311 import SERVICE_FIELDS
from streams.producer import Producer
from tests.test_ingest import dead_letters, drain, make_ingest
from tests.test_replay import NEW_YORK, new_york  # noqa: F401  (the fixture)

CHICAGO = (
    Path(__file__).resolve().parents[2]
    / "shared/data/real311/chicago_open311_v2/chicago_requests_with_notes.json"
)
YEAR = (datetime(2014, 1, 1, tzinfo=UTC), datetime(2015, 1, 1, tzinfo=UTC))
pytestmark = pytest.mark.skipif(not CHICAGO.exists(), reason="shared data is not beside")


class GeoReport:
    """A GeoReport v2 server: requests.json filtered by requested time, capped per answer."""

    def __init__(self, requests: list[dict[str, Any]], cap: int) -> None:
        self.requests, self.cap, self.failures, self.asked = requests, cap, 0, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.asked += 1
                if outer.failures:
                    outer.failures -= 1
                    self.send_error(503)
                    return
                body = json.dumps(outer.answer(self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/open311/v2"

    def answer(self, path: str) -> list[dict[str, Any]]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        start = datetime.fromisoformat(query["start_date"])
        end = datetime.fromisoformat(query["end_date"])
        found = [
            r for r in self.requests
            if start <= datetime.fromisoformat(r["requested_datetime"]) < end
        ]  # fmt: skip
        return found[: self.cap]


@pytest.fixture
def georeport() -> Iterator[GeoReport]:
    """The server with Chicago's 50 requests, answering at most 20 at a time."""
    server = GeoReport(json.loads(CHICAGO.read_text()), cap=20)
    yield server
    server.server.shutdown()


def puller(server: GeoReport, producer: Producer, stream: str) -> Puller:
    """A puller mapping every Chicago service onto New York's 'other' class and unit."""
    mapping = CityMapping(categories={}, units={}, default_category=("event", "9901"),
                          default_unit="other", prefix="CHI-")  # fmt: skip
    client = Client(server.endpoint, page_limit=server.cap)
    return Puller(client, mapping, producer, "America/Chicago", f"{stream}:open311")


def test_a_pull_reads_every_request_through_narrowed_windows(
    georeport,
    producer,
    redis_client,
    settings,
    new_york,  # noqa: F811
) -> None:
    """A capped answer is split until it fits: all 50 requests come in, and apply."""
    summary = puller(georeport, producer, settings.stream_key).poll(*YEAR)
    print(f"\n{summary.line()} ({georeport.asked} requests to the server)")
    assert (summary.requests, summary.new, summary.set_aside) == (50, 50, [])
    assert summary.closed == 49 and georeport.asked > 3
    drain(make_ingest(redis_client, new_york, settings, "pull", batch_size=500))
    assert dead_letters(redis_client, settings.stream_key) == []


def test_polling_again_changes_nothing_and_changes_are_followed(
    georeport,
    producer,
    redis_client,
    settings,
    new_york,  # noqa: F811
) -> None:
    """A second poll publishes nothing; a transfer and a closure become their events."""
    pulling = puller(georeport, producer, settings.stream_key)
    pulling.poll(*YEAR)
    again = pulling.poll(*YEAR)
    assert (again.new, again.events) == (0, 0)
    still_open = next(r for r in georeport.requests if r["status"] != "closed")
    changed = copy.deepcopy(still_open)
    changed.update(agency_responsible="Streets and Sanitation", status="closed", notes=[])
    georeport.requests[georeport.requests.index(still_open)] = changed
    later = pulling.poll(*YEAR)
    assert (later.transferred, later.closed) == (1, 1)
    drain(make_ingest(redis_client, new_york, settings, "pull", batch_size=500))
    assert dead_letters(redis_client, settings.stream_key) == []
    case = new_york.case("CHI-" + still_open["service_request_id"])
    assert case is not None and case.state == "closed" and case.returns == 1


def test_server_errors_are_retried_then_reported(georeport, producer, settings) -> None:
    """Two 503s are retried with backoff; a server that keeps failing is said to."""
    pulling = puller(georeport, producer, settings.stream_key)
    georeport.failures = 2
    stop = threading.Event()
    assert poll_with_retries(pulling, *YEAR, stop, attempts=5).new == 50
    georeport.failures = 10
    with pytest.raises(ServerError, match="503"):
        poll_with_retries(pulling, *YEAR, stop, attempts=2)


# GeoReport v2's service request fields and the JSON types each may take.
STANDARD_FIELDS: dict[str, tuple[type, ...]] = {
    "service_request_id": (str,), "status": (str,), "status_notes": (str, type(None)),
    "service_name": (str, type(None)), "service_code": (str,),
    "description": (str, type(None)), "agency_responsible": (str, type(None)),
    "service_notice": (str, type(None)), "requested_datetime": (str,),
    "updated_datetime": (str, type(None)), "expected_datetime": (str, type(None)),
    "address": (str, type(None)), "address_id": (str, type(None)),
    "zipcode": (str, type(None)), "lat": (float, int), "long": (float, int),
    "media_url": (str, type(None)),
}  # fmt: skip


def test_an_open311_round_trip_keeps_ids_statuses_and_times(
    georeport, producer, redis_client, settings, engine
) -> None:
    """Pulled from a GeoReport server, read back from ours: same ids, statuses, times."""
    from dashboard.app import create_app

    mapping = CityMapping(categories={}, units={}, default_category=("event", "9901"),
                          default_unit="other")  # fmt: skip
    client = Client(georeport.endpoint, page_limit=georeport.cap)
    Puller(client, mapping, producer, "America/Chicago", "rt").poll(*YEAR)
    app = create_app(settings.with_(city_dir=str(NEW_YORK)), engine=engine)
    drain(make_ingest(redis_client, app.store, settings, "pull", batch_size=500))
    web = app.server.test_client()  # an integration, with a read-only API key
    web.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + app.apikeys.create("georeport-check")
    ours: dict[str, dict[str, Any]] = {}
    for start, end in (("2014-01-01", "2014-03-31"), ("2014-03-31", "2014-06-29"),
                       ("2014-06-29", "2014-09-27"), ("2014-09-27", "2014-12-26")):  # fmt: skip
        answer = web.get(f"/open311/v2/requests.json?start_date={start}T00:00:00Z"
                         f"&end_date={end}T00:00:00Z")  # fmt: skip
        assert answer.status_code == 200, answer.get_data(as_text=True)
        ours.update({r["service_request_id"]: r for r in answer.get_json()})
    theirs = {r["service_request_id"]: r for r in georeport.requests}
    assert set(ours) == set(theirs)
    for request_id, mine in ours.items():
        assert set(mine) == set(STANDARD_FIELDS)
        assert all(isinstance(mine[k], types) for k, types in STANDARD_FIELDS.items())
        assert mine["status"] == theirs[request_id]["status"]
        sent = datetime.fromisoformat(theirs[request_id]["requested_datetime"])
        assert datetime.fromisoformat(mine["requested_datetime"]) == sent
    one = web.get(f"/open311/v2/requests/{next(iter(ours))}.xml")
    assert one.status_code == 200 and b"<service_request_id>" in one.data
    assert (
        web.get("/open311/v2/requests.json?start_date=2014-01-01&end_date=2014-12-31").status_code
        == 400
    )
    services = web.get("/open311/v2/services.json").get_json()
    assert {"event-9901", "event-0101"} <= {service["service_code"] for service in services}
    assert all(set(service) == set(SERVICE_FIELDS) for service in services)
