"""Emergency mode in the store: the periods and their levels, audited.

Applying `emergency.raised` / `emergency.cleared` writes the period and its levels in
the batch's transaction and keeps the batch's `Timeline` up to date, so the cases
dispatched later in the same batch see the mode in force. Each change is audited
as the stream's (actor `stream:<by>`): the producer's `by` is its claim, not a
signed-in person (dashboard.store.audit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.emergency import Policy, Timeline
from dashboard.store.audit import Result, record, stream_actor
from dashboard.store.models import Emergency, EmergencyLevel
from streams.names import EventType, SignalLevel
from streams.schema import Event


def load_timeline(session: Session, since: datetime | None = None) -> Timeline:
    """Periods still open or cleared after `since`, with their levels."""
    query = select(Emergency).order_by(Emergency.raised_at)
    if since is not None:
        query = query.where((Emergency.cleared_at.is_(None)) | (Emergency.cleared_at > since))
    periods = list(session.scalars(query))
    ids = [p.id for p in periods]
    levels: dict[int, list[Any]] = {i: [] for i in ids}
    rows = select(EmergencyLevel).where(EmergencyLevel.emergency_id.in_(ids))
    for row in session.scalars(rows.order_by(EmergencyLevel.at, EmergencyLevel.id)):
        levels[row.emergency_id].append(row)
    return Timeline(list(periods), levels)


def apply_event(session: Session, event: Event, policy: Policy, timeline: Timeline) -> bool:
    """Apply emergency.raised / emergency.cleared; whether the mode changed."""
    if event.type is EventType.EMERGENCY_RAISED:
        return _raised(session, event, policy, timeline)
    return _cleared(session, event, timeline)


def _raised(session: Session, event: Event, policy: Policy, timeline: Timeline) -> bool:
    hazard, level = str(event.data["hazard"]), SignalLevel(event.data["level"])
    actor = event.data.get("by")
    active: Any = timeline.active
    forced = bool(event.data.get("force", False))
    if active is None and not (forced or policy.raises(hazard, level)):
        _audit(session, event, "emergency.signal", hazard=hazard, level=level.value)
        return False
    if active is None:
        active = Emergency(
            hazard=hazard,
            level=level.value,
            raised_at=event.at,
            raised_by=actor,
            note=event.data.get("note"),
        )
        session.add(active)
        session.flush()  # the period's id is needed for its first level row
        timeline.periods.append(active)
        timeline.levels[active.id] = []
        action = "emergency.raised"
    elif active.level == level.value:
        return _noted(session, event, active)
    else:
        active.level = level.value
        action = "emergency.level"
    row = EmergencyLevel(emergency_id=active.id, hazard=hazard, level=level.value, at=event.at)
    session.add(row)
    timeline.levels[active.id].append(row)
    _audit(session, event, action, hazard=hazard, level=level.value, note=event.data.get("note"))
    return True


def _noted(session: Session, event: Event, active: Any) -> bool:
    """The same level again: a new note replaces the period's (the banner shows it)."""
    note = event.data.get("note")
    if not note or note == active.note:
        return False
    active.note = note
    _audit(session, event, "emergency.note", id=active.id, note=note)
    return True


def _cleared(session: Session, event: Event, timeline: Timeline) -> bool:
    active: Any = timeline.active
    actor = event.data.get("by")
    if active is None:
        # A feed may clear a signal that never raised the mode: nothing to undo.
        _audit(session, event, "emergency.clear_ignored")
        return False
    active.cleared_at, active.cleared_by = event.at, actor
    active.clear_note = event.data.get("note")
    _audit(session, event, "emergency.cleared", id=active.id, note=active.clear_note)
    return True


def _audit(session: Session, event: Event, action: str, **detail: Any) -> None:
    """The audit row of an applied event: the stream's, with the event's id and time."""
    record(
        session, stream_actor(event.data.get("by")), action, Result.OK,
        event_id=event.event_id, event_at=event.at.isoformat(), **detail,
    )  # fmt: skip


def state(session: Session) -> dict[str, Any] | None:
    """The emergency in force, as screens show it, or None."""
    active = session.scalar(select(Emergency).where(Emergency.cleared_at.is_(None)))
    if active is None:
        return None
    return {
        "id": active.id,
        "hazard": active.hazard,
        "level": active.level,
        "raised_at": int(active.raised_at.timestamp() * 1000),
        "raised_by": active.raised_by,
        "note": active.note,
    }
