"""JSON endpoints for screens and other systems."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify

from dashboard.app import App
from dashboard.snapshot import case_summary
from dashboard.store import payload_of


def register(app: App) -> None:
    """Add the JSON endpoints."""
    server = app.server

    @server.get("/api/snapshot")
    def snapshot() -> Any:
        from layouts.wall import snapshot as wall_snapshot

        return jsonify(wall_snapshot(app))

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
        return jsonify({**case_summary(found), "state": found.state, "history": history})
