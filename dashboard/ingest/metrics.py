"""The ingest worker's Prometheus metrics, and its own endpoint (issue 14).

The worker may run on another machine than the web server and fails over between
processes, so it does not write into the web workers' multiprocess folder: it serves
its own registry on `--ingest-metrics-port` (off at 0). That endpoint holds counts
only, no case data; it answers loopback and the addresses of `--metrics-allow`.
Stream lag, lengths, retention and the heartbeat are read from Redis by the web
server's /metrics, which answers the same whichever worker is active.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, Histogram, make_wsgi_app

from dashboard.domain.networks import address_allowed, networks_of
from dashboard.runtime import StartupError
from streams.consumer import Item, Rejection
from streams.names import EventType
from streams.schema import ContractError, decode

log = logging.getLogger(__name__)

EVENTS = Counter(
    "commandhall_events",
    "Stream events the ingest worker handled, by type and outcome "
    "(applied, duplicate, dead_lettered; type 'invalid' when unreadable)",
    ["type", "outcome"],
)
BATCH_SECONDS = Histogram(
    "commandhall_batch_apply_seconds",
    "Seconds to apply one batch of stream entries in one transaction",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TYPES = frozenset(event_type.value for event_type in EventType)


def observe(seconds: float, applied: Iterable[Item], duplicates: Iterable[Item]) -> None:
    """Record one applied batch: its time, and its events by type and outcome."""
    BATCH_SECONDS.observe(seconds)
    count(applied, "applied")
    count(duplicates, "duplicate")


def count(items: Iterable[Item], outcome: str) -> None:
    """Count handled events by type (one increment per type, not per event)."""
    for event_type, n in Tally(str(item.event.type) for item in items).items():
        EVENTS.labels(event_type, outcome).inc(n)


def count_set_aside(rejected: Sequence[Rejection]) -> None:
    """Count dead letters by the type their payload names (a known one, else 'invalid')."""
    for event_type, n in Tally(_type_of(r.fields) for r in rejected).items():
        EVENTS.labels(event_type, "dead_lettered").inc(n)


def _type_of(fields: Mapping[Any, Any]) -> str:
    # A dead letter's payload is whatever was refused: read it only through the
    # contract's bounded decoder (size and nesting checked before any parsing), or a
    # poison entry nested ten thousand deep would raise here, after its set-aside.
    try:
        found = decode(fields).get("type")
    except ContractError:
        return "invalid"  # a label must stay one of a few, whatever the payload says
    return found if found in TYPES else "invalid"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # a scrape every 15 s must not fill the worker's log


def serve(host: str, port: int, allow: str) -> WSGIServer:
    """Serve this process's metrics in a daemon thread; the server (to shut down)."""
    try:
        networks = networks_of(allow)
    except ValueError as error:
        raise StartupError(f"--metrics-allow: {error}") from error
    metrics = make_wsgi_app()

    def guarded(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if not address_allowed(environ.get("REMOTE_ADDR"), networks, loopback=True):
            start("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"not an allowed address (see --metrics-allow)\n"]
        return metrics(environ, start)  # type: ignore[no-any-return]

    try:
        server = make_server(host, port, guarded, handler_class=_Quiet)
    except OSError as error:  # most often: the port is taken (a second worker here?)
        raise StartupError(f"ingest metrics on {host}:{port}: {error}") from error
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("Metrics: ingest worker's endpoint on http://%s:%d/metrics", host, port)
    return server
