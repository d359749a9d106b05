"""Prometheus metrics at GET /metrics, and the screens' latency reports (issue 14).

Two kinds of figures. What a web process itself sees — the screens connected to it
by view, the push delays its screens report — lives in prometheus-client metrics;
under gunicorn every worker writes them to the multiprocess folder
(`dashboard.process.multiproc`) and /metrics, answered by any worker, adds them up
(the screens gauge as `livesum`: a dead worker's screens are gone). What the hall
as a whole is — stream lag and lengths, retention, the ingest heartbeat, the
emergency, the calendar's reach — is read from Redis and the database at scrape
time (`HallCollector`), so every worker answers the same. The ingest worker's own
counts are on its own endpoint (`dashboard.ingest.metrics`).

Who may read /metrics: people and API keys (`read_api`, e.g. `commandhall apikeys
create prometheus` as the scrape's bearer token), and without any key the
addresses of `--metrics-allow`. Never anyone by default: behind a reverse proxy on
the same host every request comes from 127.0.0.1, so loopback proves nothing here.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask import Response, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError

from dashboard.store import emergency
from dashboard.web.calendarstatus import coverage
from dashboard.web.context import App
from streams.consumer import lag
from streams.names import SignalLevel, dead_letter_key
from streams.retention import read_trimmed
from streams.status import read_heard

log = logging.getLogger(__name__)

VIEWS = ("wall", "desk", "tablet")
MAX_DELAYS = 300  # a report's delays: 10 pushes a second for 30 s
MAX_DELAY_MS = 600_000  # beyond ten minutes it is a broken clock, not a delay
MAX_REPORT_BYTES = 16_384

PUSH_LATENCY = Histogram(
    "commandhall_push_latency_seconds",
    "Delay from a push's send time on the server to its arrival on a screen, as screens report",
    ["view"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SCREENS = Gauge(
    "commandhall_screens_connected",
    "Socket.IO connections the web processes hold, by view",
    ["view"],
    multiprocess_mode="livesum",
)


def view_of(name: Any) -> str:
    """One of the views, or 'other': a label must stay one of a few, whatever is sent."""
    return name if name in VIEWS else "other"


class ScreenCount:
    """The connections of this process by view, kept in the screens gauge."""

    def __init__(self) -> None:
        self._views: dict[str, str] = {}
        self._lock = threading.Lock()

    def connected(self, sid: str, view: str) -> None:
        """A connection came, for a view."""
        with self._lock:
            if sid not in self._views:
                self._views[sid] = view
                SCREENS.labels(view).inc()

    def gone(self, sid: str) -> None:
        """A connection went (said more than once when it was cut: counted once)."""
        with self._lock:
            view = self._views.pop(sid, None)
            if view is not None:
                SCREENS.labels(view).dec()


def delays(body: Any) -> tuple[str, list[float]]:
    """The view and delays (ms) of a screen's report; ValueError says what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("a JSON object with view and delays_ms")
    found = body.get("delays_ms")
    if not isinstance(found, list) or len(found) > MAX_DELAYS:
        raise ValueError(f"delays_ms: a list of at most {MAX_DELAYS} numbers")
    for delay in found:
        number = isinstance(delay, int | float) and not isinstance(delay, bool)
        if not number or not math.isfinite(delay) or not 0 <= delay <= MAX_DELAY_MS:
            raise ValueError(f"delays_ms: numbers of milliseconds from 0 to {MAX_DELAY_MS}")
    return view_of(body.get("view")), [float(delay) for delay in found]


def _family(kind: Any, name: str, text: str, labels: list[str] | None = None) -> Any:
    # GaugeMetricFamily or CounterMetricFamily: both take their label names so.
    return kind(name, text, labels=labels)


class HallCollector:
    """The hall's state, read from Redis and the database at each scrape."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """Every family; a part whose store does not answer says so in `up`."""
        up = _family(GaugeMetricFamily, "commandhall_up", "Whether a store answers", ["part"])
        for part, read in (("redis", self._streams), ("database", self._state)):
            try:
                yield from read()
                up.add_metric([part], 1)
            except (redis.RedisError, SQLAlchemyError) as error:
                log.warning("Metrics: %s unreadable: %s", part, error)
                up.add_metric([part], 0)
        yield up

    def _streams(self) -> Iterator[Metric]:
        connection, settings = self.app.redis, self.app.settings
        stream, group = settings.stream_key, settings.consumer_group
        waiting = lag(connection, stream, group)
        for name, text in (
            ("undelivered", "Stream entries not yet delivered to the ingest group"),
            ("pending", "Stream entries delivered to ingest and not yet acknowledged"),
        ):
            family = _family(GaugeMetricFamily, f"commandhall_stream_{name}", text)
            family.add_metric([], waiting[name])
            yield family
        length = _family(
            GaugeMetricFamily, "commandhall_stream_length", "Entries in the stream", ["stream"]
        )
        trimmed = _family(
            CounterMetricFamily,
            "commandhall_stream_trimmed_entries",
            "Entries retention trimmed from the stream",
            ["stream"],
        )
        for label, key in (("cases", stream), ("dead_letters", dead_letter_key(stream))):
            length.add_metric([label], connection.xlen(key))
            trimmed.add_metric([label], read_trimmed(connection, key))
        yield from (length, trimmed)
        yield self._heartbeat(read_heard(connection, stream, group))

    def _heartbeat(self, heard: dict[str, Any] | None) -> Metric:
        family = _family(
            GaugeMetricFamily,
            "commandhall_ingest_heartbeat_age_seconds",
            "Seconds since an ingest worker last wrote its heartbeat",
        )
        age = math.inf if heard is None else datetime.now(UTC).timestamp() - float(heard["at"])
        family.add_metric([], age)
        return family

    def _state(self) -> Iterator[Metric]:
        with self.app.store.sessions() as session:
            current = emergency.state(session)
        levels = list(SignalLevel)
        family = _family(
            GaugeMetricFamily,
            "commandhall_emergency_level",
            "The emergency in force: 0 none, 1 white ... 5 red",
        )
        family.add_metric([], 0 if current is None else levels.index(current["level"]) + 1)
        yield family
        yield from self._calendar()

    def _calendar(self) -> Iterator[Metric]:
        reach = coverage(self.app)
        until = _family(
            GaugeMetricFamily,
            "commandhall_calendar_covered_until_timestamp_seconds",
            "End of the last day the working calendar covers (+Inf: rules for every year)",
        )
        until.add_metric([], self._end_of(reach["covered_until"]))
        missing = _family(
            GaugeMetricFamily,
            "commandhall_calendar_missing_years",
            "Years ahead without a published working calendar",
        )
        missing.add_metric([], len(reach["missing_years"]))
        yield from (until, missing)

    def _end_of(self, day: str | None) -> float:
        if day is None:
            return math.inf
        zone = ZoneInfo(self.app.timezone)
        midnight = datetime.combine(datetime.fromisoformat(day).date(), time(), zone)
        return (midnight + timedelta(days=1)).timestamp()


class _ThisProcess:
    """The process's own registry, when there is no multiprocess folder (one process)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(app: App) -> bytes:
    """The text a Prometheus scrape reads."""
    registry = CollectorRegistry()
    if values.ValueClass is values.MutexValue:  # prometheus-client chose one process
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    else:
        multiprocess.MultiProcessCollector(registry)
    registry.register(HallCollector(app))  # type: ignore[arg-type]
    return generate_latest(registry)


def register(app: App) -> None:
    """Add /metrics and POST /api/screens/latency."""

    @app.server.get("/metrics")
    def metrics() -> Any:
        return Response(exposition(app), content_type=CONTENT_TYPE_LATEST)

    @app.server.post("/api/screens/latency")
    def latency() -> Any:
        size = request.content_length
        if size is None or size > MAX_REPORT_BYTES:  # read nothing unbounded
            return jsonify({"error": f"a Content-Length of at most {MAX_REPORT_BYTES}"}), 413
        try:
            view, found = delays(request.get_json(silent=True))
        except ValueError as error:
            return jsonify({"error": str(error)}), 400
        histogram = PUSH_LATENCY.labels(view)
        for delay in found:
            histogram.observe(delay / 1000)
        # The screen sets its measuring clock from this answer's round trip.
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        return jsonify({"recorded": len(found), "now": now_ms})
