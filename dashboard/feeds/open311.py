"""Pull an Open311 GeoReport v2 server's service requests into the stream.

`requests.json` is polled over a moving time window (start_date/end_date, or the
updated_after/updated_before extension where the server has it). The standard caps
an answer at 1000 requests by default: a window whose answer is that full is split
in two until each half fits. New requests become reported cases dispatched to their
agency's unit; a changed `agency_responsible` a return and a new dispatch; status
`closed` the closure. What was published per request is kept in a Redis hash, and
every event id derives from the request, so polling again changes nothing.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard.feeds.records import Record, Refused, open311_record
from dashboard.feeds.stories import CityMapping, Steps, story
from streams.names import EventType
from streams.producer import Producer

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000  # GeoReport v2's default cap on one answer
SMALLEST_WINDOW = timedelta(seconds=1)
ONCE_ATTEMPTS = 5  # --once gives up after this many failed tries
MAX_DELAY_S = 300.0


class ServerError(Exception):
    """The Open311 server did not answer usefully (retry later)."""


@dataclass
class PullSummary:
    """What one poll did."""

    requests: int = 0
    new: int = 0
    transferred: int = 0
    closed: int = 0
    events: int = 0
    set_aside: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary as a person reads it."""
        return (
            f"{self.requests} requests read: {self.new} new, {self.transferred} transferred, "
            f"{self.closed} closed, {self.events} events published, "
            f"{len(self.set_aside)} set aside"
        )


@dataclass
class Client:
    """A GeoReport v2 endpoint: `requests.json` under `endpoint`, GET with a timeout."""

    endpoint: str
    jurisdiction: str | None = None
    timeout: float = 30.0
    updated: bool = False  # filter by updated_after/updated_before instead
    page_limit: int = PAGE_LIMIT  # the server's cap on one answer

    def requests(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The requests of a window, narrowed until no answer is capped."""
        found = self._get(start, end)
        if len(found) < self.page_limit or end - start <= SMALLEST_WINDOW:
            return found
        middle = start + (end - start) / 2
        return self.requests(start, middle) + self.requests(middle, end)

    def _get(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        names = ("updated_after", "updated_before") if self.updated else ("start_date", "end_date")
        query = {names[0]: _iso(start), names[1]: _iso(end)}
        if self.jurisdiction:
            query["jurisdiction_id"] = self.jurisdiction
        url = f"{self.endpoint.rstrip('/')}/requests.json?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as answer:
                body = json.loads(answer.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            raise ServerError(f"{url}: {error}") from error
        if not isinstance(body, list):
            raise ServerError(f"{url}: expected a JSON array of requests")
        return body


class Puller:
    """Turns what a server says into contract events, remembering what it published."""

    def __init__(
        self,
        client: Client,
        mapping: CityMapping,
        producer: Producer,
        timezone: str,
        state_key: str,
    ) -> None:
        self.client, self.mapping, self.producer = client, mapping, producer
        self.zone, self.state_key = ZoneInfo(timezone), state_key

    def poll(self, start: datetime, end: datetime) -> PullSummary:
        """Read one window and publish what changed."""
        summary = PullSummary()
        for number, request in enumerate(self.client.requests(start, end), 1):
            summary.requests += 1
            self._one(number, request, summary)
        return summary

    def _one(self, number: int, request: Mapping[str, Any], summary: PullSummary) -> None:
        try:
            record = open311_record(number, request, self.zone)
        except (KeyError, TypeError, ValueError) as error:
            record = Refused(number, f"malformed request: {error}")
        if isinstance(record, Refused):
            summary.set_aside.append(record.reason)
            return
        seen = self._state(record.request_id)
        events = (
            self._new(record, summary) if seen is None else self._changes(record, seen, summary)
        )
        if events is None:
            return
        summary.events += self.producer.publish_many(events)
        self._remember(record)

    def _new(self, record: Record, summary: PullSummary) -> list[dict[str, Any]] | None:
        told = story(record, self.mapping, "open311")
        if isinstance(told, Refused):
            summary.set_aside.append(f"request {record.request_id}: {told.reason}")
            return None
        summary.new += 1
        summary.closed += told[-1]["type"] == EventType.CLOSED
        return told

    def _changes(
        self, record: Record, seen: dict[str, Any], summary: PullSummary
    ) -> list[dict[str, Any]]:
        case_id = self.mapping.case_id(record.request_id)
        steps = Steps(f"open311:{record.request_id}:{seen['changes']}", case_id)
        now = max(datetime.now(UTC), record.created)
        unit = self.mapping.unit(record.agency)
        if not seen["closed"] and unit is not None and record.agency != seen["agency"]:
            steps.add(EventType.RETURNED, now, note=f"transferred to {record.agency}")
            steps.add(EventType.DISPATCHED, now + timedelta(seconds=1), department=unit)
            summary.transferred += 1
        if not seen["closed"] and record.closed is not None:
            at = max(record.closed, now + timedelta(seconds=2))
            steps.add(EventType.HANDLED, at)
            steps.add(EventType.CLOSED, at + timedelta(seconds=1))
            summary.closed += 1
        return steps.events

    def _state(self, request_id: str) -> dict[str, Any] | None:
        raw = self.producer.redis.hget(self.state_key, request_id)
        return json.loads(raw) if raw else None

    def _remember(self, record: Record) -> None:
        seen = self._state(record.request_id)
        changes = 0 if seen is None else seen["changes"] + 1
        state = {"agency": record.agency, "closed": record.closed is not None, "changes": changes}
        self.producer.redis.hset(self.state_key, record.request_id, json.dumps(state))


def windows(
    since: datetime, every: float, stop: threading.Event, overlap: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Moving windows from `since` to now, every `every` seconds, overlapping a little."""
    start = since
    while not stop.is_set():
        end = datetime.now(UTC)
        yield start, end
        start = end - overlap
        stop.wait(every)


def pull(
    puller: Puller,
    since: datetime,
    every: float | None,
    stop: threading.Event,
    overlap: timedelta = timedelta(minutes=5),
) -> PullSummary:
    """Poll once (every=None) or every `every` seconds until `stop`; the last summary."""
    last = PullSummary()
    for start, end in windows(since, every or 0, stop, overlap):
        last = poll_with_retries(puller, start, end, stop, None if every else ONCE_ATTEMPTS)
        log.info("Open311 %s: %s", puller.client.endpoint, last.line())
        if every is None:
            break
    return last


def poll_with_retries(
    puller: Puller, start: datetime, end: datetime, stop: threading.Event, attempts: int | None
) -> PullSummary:
    """One window, retried with doubling delays (and jitter) while the server fails."""
    delay, attempt = 1.0, 0
    while True:
        try:
            return puller.poll(start, end)
        except (ServerError, redis.ConnectionError) as error:
            attempt += 1
            if (attempts is not None and attempt >= attempts) or stop.is_set():
                raise
            log.warning("Open311 %s: %s; retrying in %.0fs", puller.client.endpoint, error, delay)
            stop.wait(delay * random.uniform(1, 1.5))  # jitter: many pullers spread out
            delay = min(delay * 2, MAX_DELAY_S)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
