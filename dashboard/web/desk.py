"""The desk's JSON and CSV: its table, its export, the alerts a commander has seen.

The guard checks each route against the permission table (dashboard.web.guard
`needed`: view_desk, and acknowledge to mark alerts seen), so only people reach
them, never a wall's token or an API key; the export and acknowledgements are audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import jsonify, request

from dashboard.domain.lifecycle import light_of
from dashboard.store import desk
from dashboard.store.audit import Result, record
from dashboard.store.snapshot import epoch_ms
from dashboard.web import auth, bodies, csvout
from dashboard.web.context import App, Routes, add_routes

# An alert seen is remembered this long (an overdue case's alert names its deadline).
ACKS_KEPT = timedelta(days=7)


def cases(app: App) -> Any:
    """Every open case in the desk's columns (with ?closed=1 the recently closed too)."""
    now = datetime.now(UTC)
    with app.store.sessions() as db:
        table = desk.desk_cases(db, now, closed=request.args.get("closed") == "1")
    return jsonify({**table, "now": epoch_ms(now)})


def export_csv(app: App) -> Any:
    """The filtered table as CSV, streamed: a big export never sits in memory."""
    desk_filter = desk.DeskFilter.from_query(request.args)
    now = datetime.now(UTC)
    with app.store.sessions.begin() as db:
        record(db, auth.username(), "desk.export", Result.OK, auth.address(), at=now,
               query=request.query_string.decode("latin-1"))  # fmt: skip

    def rows() -> Any:
        # Needs no request context: a stream must not hold one open.
        with app.store.sessions() as db:
            cases = desk.filtered(db, desk_filter, now)
            yield from desk.export_rows(cases, lambda case: light_of(case, now))

    return csvout.response(rows(), f"cases-{now:%Y%m%d-%H%M}.csv")


def acks(app: App) -> Any:
    """The alert keys the signed-in user has seen."""
    since = datetime.now(UTC) - ACKS_KEPT
    with app.store.sessions() as db:
        return jsonify({"keys": desk.acknowledged(db, str(auth.username()), since)})


def acknowledge(app: App) -> Any:
    """Mark alerts seen by the signed-in user (audited)."""
    body = bodies.json_object()
    if body is None:
        return bodies.refused()
    keys = body.get("keys")
    if not isinstance(keys, list) or not keys or len(keys) > desk.ACK_KEYS_MAX:
        return jsonify({"error": f"keys: a list of 1–{desk.ACK_KEYS_MAX} alert keys"}), 400
    now = datetime.now(UTC)
    with app.store.sessions.begin() as db:
        new = desk.acknowledge(db, str(auth.username()), keys, now)
        record(db, auth.username(), "desk.acknowledge", Result.OK, auth.address(), at=now,
               alerts=len(keys), new=new)  # fmt: skip
    return jsonify({"acknowledged": new})


ROUTES: Routes = (
    (("GET",), "/api/desk/cases", cases),
    (("GET",), "/api/desk/export.csv", export_csv),
    (("GET",), "/api/desk/acks", acks),
    (("POST",), "/api/desk/acks", acknowledge),
)


def register(app: App) -> None:
    """Add the desk's endpoints."""
    add_routes(app, ROUTES)
