"""JSON endpoints for screens and other systems.

Periods are given as `?period=day|week|month|range&value=…` (value defaults to the
current day, week or month): day 2026-03-31, week 2026-W14, month 2026-03, range
2026-03-01/2026-03-15. A bad parameter answers 400 with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from flask import Response, abort, jsonify, request

from dashboard.domain.lifecycle import light_of
from dashboard.store import afteraction, emergency, kpis
from dashboard.store.batch import payload_of
from dashboard.store.kpis import GroupBy, Period
from dashboard.store.snapshot import case_summary, epoch_ms
from dashboard.web import auth, bodies, csvout
from dashboard.web.actions import ActionRefused, act
from dashboard.web.context import App, Routes, add_routes
from dashboard.web.snapshot import snapshot as screen_snapshot
from dashboard.web.switch import NotAllowed, SwitchRefused, switch

GROUPS = ("department", "district", "street")


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


def snapshot(app: App) -> Any:
    """Everything a screen needs to draw itself from scratch: the warm snapshot (read
    from the database only when it went cold), gzipped when the browser accepts it."""
    gzip = request.accept_encodings["gzip"] > 0
    now = epoch_ms(datetime.now(UTC)) or 0
    body = app.warm.body(now, gzip) if app.warm is not None else None
    if body is None:  # no push count to keep one by: read it now
        return jsonify(screen_snapshot(app))
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if gzip:
        response.headers["Content-Encoding"] = "gzip"  # Flask-Compress leaves it be
        response.headers["Vary"] = "Accept-Encoding"
    return response


def case(app: App, case_id: str) -> Any:
    """One case with its state, deadline, light and full history."""
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
            "light": light_of(found, datetime.now(UTC)),
            "history": history,
        }
    )


def current_emergency(app: App) -> Any:
    """The emergency in force, and the pages' build."""
    with app.store.sessions() as session:
        current = emergency.state(session)
    return jsonify({"emergency": current, "build": app.build})


def case_action(app: App, case_id: str, action: str) -> Any:
    """Urge, supervise or flag a case: checked, audited, published on the stream."""
    body = bodies.json_object()
    if body is None:
        return bodies.refused()
    note = bodies.text_or_none(body.get("note")) or ""
    try:
        event = act(app, auth.as_user(), case_id, action, note)
    except ActionRefused as refused:
        return jsonify({"error": str(refused), "key": refused.key}), refused.status
    return jsonify({"published": event}), 202


def switch_emergency(app: App) -> Any:
    """Raise or clear emergency mode (commanders only), published on the stream."""
    body = bodies.json_object()
    if body is None:
        return bodies.refused()
    user = auth.as_user()  # the role as the database says now, not the cookie
    try:
        event = switch(
            app,
            user,
            bodies.text_or_none(body.get("action")) or "",
            bodies.text_or_none(body.get("reason")) or "",
            bodies.text_or_none(body.get("hazard")),
            bodies.text_or_none(body.get("level")),
        )
    except NotAllowed as error:
        return jsonify({"error": str(error)}), 403
    except SwitchRefused as error:
        return jsonify({"error": str(error)}), 400
    return jsonify({"published": event}), 202


def emergency_periods(app: App) -> Any:
    """Every emergency period."""
    with app.store.sessions() as db:
        return jsonify({"periods": afteraction.periods(db)})


def _report_or_404(app: App, emergency_id: int) -> afteraction.Report:
    with app.store.sessions() as db:
        found = afteraction.report(db, emergency_id, datetime.now(UTC))
    if found is None:
        abort(404)
    return found


def emergency_report(app: App, emergency_id: int) -> Any:
    """One period's after-action report."""
    return jsonify(_report_or_404(app, emergency_id).as_dict())


def emergency_csv(app: App, emergency_id: int) -> Any:
    """One period's after-action report as CSV for Excel."""
    found = _report_or_404(app, emergency_id)
    name = f"emergency-{emergency_id}-{found.start:%Y%m%d}.csv"
    return csvout.response(afteraction.csv_rows(found, app.timezone), name)


def boards(app: App) -> Any:
    """Open, yellow and red counts per responsible unit, now."""
    now = datetime.now(UTC)
    with app.store.sessions() as session:
        rows = kpis.board_counts(session, now)
    return jsonify({"at": now.isoformat(), "boards": [row.as_dict() for row in rows]})


def figures(app: App) -> Any:
    """Evaluation figures over a period, city-wide or by group."""
    now = datetime.now(UTC)
    period, by = period_of(app, now), group_of(GROUPS, None)
    with app.store.sessions() as session:
        rows = kpis.figures(session, period, cast(GroupBy | None, by), now)
    return jsonify(
        {"period": period.as_dict(), "by": by, "figures": [row.as_dict() for row in rows]}
    )


def rankings(app: App) -> Any:
    """The graded ranking of departments or districts over a period."""
    now = datetime.now(UTC)
    period, by = period_of(app, now), group_of(GROUPS[:2], "department")
    with app.store.sessions() as session:
        rows = kpis.ranking(session, period, cast(Any, by), now)
    return jsonify(
        {"period": period.as_dict(), "by": by, "ranking": [row.as_dict() for row in rows]}
    )


# (method, rule, view): every JSON endpoint in one table.
ROUTES: Routes = (
    (("GET",), "/api/snapshot", snapshot),
    (("GET",), "/api/cases/<case_id>", case),
    (("POST",), "/api/cases/<case_id>/<action>", case_action),
    (("GET",), "/api/emergency", current_emergency),
    (("POST",), "/api/emergency", switch_emergency),
    (("GET",), "/api/emergencies", emergency_periods),
    (("GET",), "/api/emergencies/<int:emergency_id>", emergency_report),
    (("GET",), "/api/emergencies/<int:emergency_id>.csv", emergency_csv),
    (("GET",), "/api/boards", boards),
    (("GET",), "/api/kpis", figures),
    (("GET",), "/api/rankings", rankings),
)


def _bad_request(error: BadRequest) -> Any:
    return jsonify({"error": str(error)}), 400


def register(app: App) -> None:
    """Add the JSON endpoints."""
    app.server.register_error_handler(BadRequest, _bad_request)
    add_routes(app, ROUTES)
