"""GET /healthz: is Redis reachable, is the database, how far behind is ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from flask import jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard.store.models import EventRow
from dashboard.web.context import App
from streams.consumer import lag


def report(app: App) -> dict[str, Any]:
    """The health figures; `ok` is false when Redis or the database does not answer."""
    body: dict[str, Any] = {"redis": False, "database": False, "consumer": None}
    try:
        body["redis"] = bool(app.redis.ping())
        body["consumer"] = lag(app.redis, app.settings.stream_key, app.settings.consumer_group)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        body["redis_error"] = str(error)
    try:
        with app.engine.connect() as connection:
            last = connection.scalar(select(func.max(EventRow.applied_at)))
        body["database"] = True
        body["last_applied_age_s"] = _age(last)
    except SQLAlchemyError as error:
        body["database_error"] = str(error.__cause__ or error)
    body["ok"] = body["redis"] and body["database"]
    return body


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
