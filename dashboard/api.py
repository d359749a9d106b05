"""JSON endpoints for screens and other systems.

Periods are given as `?period=day|week|month|range&value=…` (value defaults to the
current day, week or month): day 2026-03-31, week 2026-W14, month 2026-03, range
2026-03-01/2026-03-15. A bad parameter answers 400 with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import redis
from flask import Response, abort, jsonify, request, session

from dashboard import afteraction, deadlines, emergency, kpis
from dashboard.app import App
from dashboard.deadlines import Clock
from dashboard.kpis import GroupBy, Period
from dashboard.models import Case
from dashboard.snapshot import case_summary
from dashboard.store import payload_of
from dashboard.switch import NotAllowed, SwitchRefused, switch
from layouts import BUILD
from streams.names import CaseState
from streams.sequence import Sequence

GROUPS = ("department", "district", "street")
CLOSED_STATES = tuple(state for state in CaseState if not state.is_open)


class BadRequest(ValueError):
    """A request parameter that cannot be used; the message says why."""


def period_of(app: App, now: datetime) -> Period:
    """The period the request asks for (default: this month)."""
    kind = request.args.get("period", "month")
    value = request.args.get("value")
    if value is None:
        current = {"day": Period.day_of, "week": Period.week_of, "month": Period.month_of}
        if kind not in current:
            raise BadRequest("give value= for a range period")
        return current[kind](now, app.timezone)
    try:
        return Period.parse(kind, value, app.timezone)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def group_of(allowed: tuple[str, ...], default: str | None) -> str | None:
    """The grouping the request asks for."""
    by = request.args.get("by", default)
    if by is not None and by not in allowed:
        raise BadRequest(f"by must be one of {', '.join(allowed)}")
    return by


def light_of(case: Case) -> str | None:
    """The traffic light of an open, dispatched, running case (None otherwise)."""
    running = case.state not in (CaseState.SUSPENDED, *CLOSED_STATES)
    if case.deadline is None or case.warn_at is None or not running:
        return None
    return deadlines.light(datetime.now(UTC), Clock(case.deadline, case.warn_at)).value


def register(app: App) -> None:
    """Add the JSON endpoints."""
    server = app.server

    @server.errorhandler(BadRequest)
    def bad_request(error: BadRequest) -> Any:
        return jsonify({"error": str(error)}), 400

    @server.get("/api/snapshot")
    def snapshot() -> Any:
        from layouts.wall import snapshot as wall_snapshot

        # Read before the database: every push numbered up to here is in the snapshot.
        # Without Redis there is no position; the screen takes the next push's.
        try:
            epoch, seq = Sequence(app.redis).current()
        except (redis.ConnectionError, redis.TimeoutError):
            epoch, seq = None, None
        return jsonify({**wall_snapshot(app), "epoch": epoch, "seq": seq})

    @server.get("/api/cases/<case_id>")
    def case(case_id: str) -> Any:
        found = app.store.case(case_id)
        if found is None:
            abort(404)
        history = [
            {
                "event_id": row.event_id,
                "type": row.type,
                "at": row.at.isoformat(),
                "by": row.actor,
                "note": row.note,
                "event": payload_of(row),
            }
            for row in app.store.history(case_id)
        ]
        return jsonify(
            {
                **case_summary(found),
                "state": found.state,
                "deadline": found.deadline.isoformat() if found.deadline else None,
                "light": light_of(found),
                "history": history,
            }
        )

    @server.get("/api/emergency")
    def current_emergency() -> Any:
        with app.store.sessions() as session:
            current = emergency.state(session)
        return jsonify({"emergency": current, "build": BUILD})

    @server.post("/api/emergency")
    def switch_emergency() -> Any:
        body = request.get_json(silent=True) or {}
        user = {"role": session.get("role"), "username": session.get("username")}
        try:
            event = switch(
                app,
                user,
                str(body.get("action", "")),
                str(body.get("reason", "")),
                body.get("hazard"),
                body.get("level"),
            )
        except NotAllowed as error:
            return jsonify({"error": str(error)}), 403
        except SwitchRefused as error:
            return jsonify({"error": str(error)}), 400
        return jsonify({"published": event}), 202

    @server.get("/api/emergencies")
    def emergency_periods() -> Any:
        with app.store.sessions() as db:
            return jsonify({"periods": afteraction.periods(db)})

    def report_or_404(emergency_id: int) -> afteraction.Report:
        with app.store.sessions() as db:
            found = afteraction.report(db, emergency_id, datetime.now(UTC))
        if found is None:
            abort(404)
        return found

    @server.get("/api/emergencies/<int:emergency_id>")
    def emergency_report(emergency_id: int) -> Any:
        return jsonify(report_or_404(emergency_id).as_dict())

    @server.get("/api/emergencies/<int:emergency_id>.csv")
    def emergency_csv(emergency_id: int) -> Any:
        found = report_or_404(emergency_id)
        name = f"emergency-{emergency_id}-{found.start:%Y%m%d}.csv"
        return Response(
            afteraction.to_csv(found, app.timezone).encode("utf-8"),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )

    @server.get("/api/boards")
    def boards() -> Any:
        now = datetime.now(UTC)
        with app.store.sessions() as session:
            rows = kpis.board_counts(session, now)
        return jsonify({"at": now.isoformat(), "boards": [row.as_dict() for row in rows]})

    @server.get("/api/kpis")
    def figures() -> Any:
        now = datetime.now(UTC)
        period, by = period_of(app, now), group_of(GROUPS, None)
        with app.store.sessions() as session:
            rows = kpis.figures(session, period, cast(GroupBy | None, by), now)
        return jsonify(
            {"period": period.as_dict(), "by": by, "figures": [row.as_dict() for row in rows]}
        )

    @server.get("/api/rankings")
    def rankings() -> Any:
        now = datetime.now(UTC)
        period, by = period_of(app, now), group_of(GROUPS[:2], "department")
        with app.store.sessions() as session:
            rows = kpis.ranking(session, period, cast(Any, by), now)
        return jsonify(
            {"period": period.as_dict(), "by": by, "ranking": [row.as_dict() for row in rows]}
        )
