"""A duty commander switches emergency mode from a desk: checked here, on the server.

The switch publishes the same `emergency.raised` / `emergency.cleared` event a
weather feed would, onto the case stream, so upstream systems learn it too and the
ingest worker applies it like any other; the request itself goes to the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.store.accounts import Role
from dashboard.store.emergency import audit
from dashboard.web.context import App
from streams.names import EventType, SignalLevel
from streams.producer import Producer, new_event
from streams.schema import ContractError, validate

HAZARDS = ("typhoon", "rainstorm", "flood", "other")


class SwitchRefused(ValueError):
    """The switch was not thrown; the message says why."""


class NotAllowed(SwitchRefused):
    """The user's role may not switch emergency mode."""


def switch(
    app: App,
    user: dict[str, Any],
    action: str,
    reason: str,
    hazard: str | None = None,
    level: str | None = None,
) -> dict[str, Any]:
    """Raise or clear emergency mode for a signed-in user; the event published."""
    if user.get("role") != Role.COMMANDER.value:
        raise NotAllowed("only a duty commander may switch emergency mode")
    if len((reason or "").strip()) < 2:
        raise SwitchRefused("a reason is required")
    event = _event(action, str(user.get("username")), reason.strip(), hazard, level)
    try:
        validate(event)
    except ContractError as error:
        raise SwitchRefused(str(error)) from None
    Producer(app.redis, app.settings.stream_key).publish(event)
    with app.store.sessions.begin() as session:
        audit(
            session,
            datetime.now(UTC),
            user.get("username"),
            "emergency.requested",
            switch=action,
            hazard=hazard,
            level=level,
            reason=reason.strip(),
        )
    return event


def _event(action: str, by: str, reason: str, hazard: str | None, level: str | None) -> dict:
    if action == "clear":
        return new_event(EventType.EMERGENCY_CLEARED, by=by, note=reason)
    if action != "raise":
        raise SwitchRefused("action must be raise or clear")
    if hazard not in HAZARDS:
        raise SwitchRefused(f"hazard must be one of {', '.join(HAZARDS)}")
    if level not in {s.value for s in SignalLevel}:
        raise SwitchRefused("level must be a signal colour")
    return new_event(
        EventType.EMERGENCY_RAISED, hazard=hazard, level=level, by=by, note=reason, force=True
    )
