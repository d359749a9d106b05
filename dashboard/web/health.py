"""GET /healthz: is Redis reachable, is the database, is ingest alive and keeping up.

Not 200 while ingest is stuck (no worker's heartbeat), stalled (no progress for
`stall_s`) or behind (more than `max_lag` entries waiting): a load balancer or an
operator's probe must hear the truth. A lost stream, recovered, is reported in the
body for a day (`stream_lost`) without failing the check, and so is the working
calendar's reach (`calendar`: the last day it covers, the years it lacks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from flask import jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard.store.models import EventRow
from dashboard.web.calendarstatus import coverage
from dashboard.web.context import App
from streams.consumer import lag
from streams.status import read_lost, read_status


def report(app: App) -> dict[str, Any]:
    """The health figures; `ok` is false when Redis or the database does not answer."""
    body: dict[str, Any] = {"redis": False, "database": False, "consumer": None, "ingest": None}
    stream, group = app.settings.stream_key, app.settings.consumer_group
    try:
        body["redis"] = bool(app.redis.ping())
        body["consumer"] = lag(app.redis, stream, group)
        body["ingest"] = read_status(app.redis, stream, group)
        body["stream_lost"] = read_lost(app.redis, stream, group)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        body["redis_error"] = str(error)
    try:
        with app.engine.connect() as connection:
            last = connection.scalar(select(func.max(EventRow.applied_at)))
        body["database"] = True
        body["last_applied_age_s"] = _age(last)
    except SQLAlchemyError as error:
        body["database_error"] = str(error.__cause__ or error)
    # Reported, not a failure: a load balancer must not pull a server for next year.
    body["calendar"] = coverage(app)
    body["snapshot"] = app.warm.stats() if app.warm is not None else None
    body["problems"] = ingest_problems(app, body) if body["redis"] else ["redis unreachable"]
    body["ok"] = body["redis"] and body["database"] and not body["problems"]
    return body


def ingest_problems(app: App, body: dict[str, Any]) -> list[str]:
    """What is wrong with ingest, in words; empty when it keeps up."""
    status, waiting = body["ingest"], sum((body["consumer"] or {}).values())
    if status is None:
        return ["stuck: no ingest worker has reported in (none running?)"]
    problems = []
    quiet = datetime.now(UTC).timestamp() - float(status["progress_at"])
    if quiet > app.settings.stall_s:
        problems.append(f"stalled: no progress for {quiet:.0f}s ({status.get('error')})")
    if waiting > app.settings.max_lag:
        problems.append(f"behind: {waiting} entries waiting (more than {app.settings.max_lag})")
    return problems


def _age(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # raw SQL bypasses the column type on SQLite
        moment = moment.replace(tzinfo=UTC)
    return round((datetime.now(UTC) - moment).total_seconds(), 3)


def register(app: App) -> None:
    """Add the health endpoint; 503 when a dependency is down, for load balancers."""

    @app.server.get("/healthz")
    def healthz() -> Any:
        body = report(app)
        return jsonify(body), 200 if body["ok"] else 503
