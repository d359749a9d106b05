"""GET /healthz: is Redis reachable, is the database, is ingest alive and keeping up.

Not 200 while ingest is stuck (no worker heard from within `heartbeat_timeout_s`),
stalled (no progress for `stall_s`) or behind (more than `max_lag` entries waiting):
a load balancer or an operator's probe must hear the truth. The worker's status
expires a few leases after it died, so it was 200 for that long and then could not
say who died when; the last heartbeat (`heard`) is kept apart for that (issue 14).

Liveness and readiness are apart: `/healthz/live` is this process answering (restart
it when not), `/healthz/ready` is whether it can serve true data (take it out of the
balancer when not); `/healthz` is the full report with the same status as ready.
A lost stream, recovered, is reported in the body for a day (`stream_lost`) without
failing the check, and so is the working calendar's reach (`calendar`: the last
day it covers, the years it lacks).

Anyone may ask, but only the status is for anyone (`{"status": "ok"}` or
`"unhealthy"`, and the HTTP code): the figures name consumers and carry error texts
of the database and Redis, which tell an attacker what runs behind (issue 20). They
go to signed-in admins, API keys and the addresses of `--metrics-allow`, who may
read /metrics too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from flask import Response, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard.domain.access import Role
from dashboard.store.models import EventRow
from dashboard.web import auth
from dashboard.web.calendarstatus import coverage
from dashboard.web.context import App
from dashboard.web.guard import scraper
from streams.consumer import lag
from streams.names import lane_key
from streams.status import read_heard, read_lost, read_status


def report(app: App) -> dict[str, Any]:
    """The health figures; `ok` is false when Redis or the database does not answer."""
    body: dict[str, Any] = {"redis": False, "database": False, "consumer": None, "ingest": None}
    stream, group = app.settings.stream_key, app.settings.consumer_group
    try:
        body["redis"] = bool(app.redis.ping())
        body["consumer"] = lag(app.redis, stream, group)
        body["lane"] = lag(app.redis, lane_key(stream), group)  # the emergency lane
        body["ingest"] = read_status(app.redis, stream, group)
        body["heard"] = _heard(read_heard(app.redis, stream, group))
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
    status = body["ingest"]
    waiting = sum((body["consumer"] or {}).values()) + sum((body.get("lane") or {}).values())
    heard, timeout = body.get("heard"), app.settings.heartbeat_timeout_s
    if status is None or heard is None or heard["age_s"] > timeout:
        last = f"last from {heard['consumer']} {heard['age_s']:.0f}s ago" if heard else "ever"
        return [f"stuck: no ingest worker heard from within {timeout:g}s ({last}; none running?)"]
    problems = []
    quiet = datetime.now(UTC).timestamp() - float(status["progress_at"])
    if quiet > app.settings.stall_s:
        problems.append(f"stalled: no progress for {quiet:.0f}s ({status.get('error')})")
    if waiting > app.settings.max_lag:
        problems.append(f"behind: {waiting} entries waiting (more than {app.settings.max_lag})")
    return problems


def _heard(heard: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last heartbeat with its age in seconds."""
    if heard is None:
        return None
    at = float(heard["at"])
    when = datetime.fromtimestamp(at, UTC).isoformat()
    return {**heard, "at": when, "age_s": round(datetime.now(UTC).timestamp() - at, 3)}


def _age(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # raw SQL bypasses the column type on SQLite
        moment = moment.replace(tzinfo=UTC)
    return round((datetime.now(UTC) - moment).total_seconds(), 3)


def may_see_details(app: App) -> bool:
    """Whether this request may read the figures: an admin, an API key, a scraper."""
    who = auth.principal()
    if who is not None and who.kind == "apikey":
        return True
    if who is not None and who.kind == "user" and who.role == Role.ADMIN:
        return not who.must_change_password
    return scraper(app)


def answer(app: App, body: dict[str, Any], keys: tuple[str, ...] | None) -> tuple[Response, int]:
    """The status for anyone, the figures (all, or `keys`) for those who may see them."""
    status: dict[str, Any] = {"status": "ok" if body["ok"] else "unhealthy"}
    if may_see_details(app):
        status.update((key, body.get(key)) for key in keys or tuple(body))
    return jsonify(status), 200 if body["ok"] else 503


def register(app: App) -> None:
    """Add the health endpoint; 503 when a dependency is down, for load balancers."""

    @app.server.get("/healthz")
    def healthz() -> Any:
        return answer(app, report(app), None)

    @app.server.get("/healthz/live")
    def live() -> Any:
        # Touches nothing outside the process: a Redis outage must not get it restarted.
        return jsonify({"status": "ok"})

    @app.server.get("/healthz/ready")
    def ready() -> Any:
        keys = ("ok", "redis", "database", "problems", "heard", "consumer")
        return answer(app, report(app), keys)
