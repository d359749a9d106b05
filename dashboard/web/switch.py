"""A duty commander switches emergency mode from a desk: checked here, on the server.

The switch publishes the same `emergency.raised` / `emergency.cleared` event a
weather feed would, onto the case stream, so upstream systems learn it too and the
ingest worker applies it like any other; the request itself goes to the audit log.
"""

from __future__ import annotations

from typing import Any

from dashboard.domain.access import Permission, allowed
from dashboard.domain.emergency import rank
from dashboard.store import emergency
from dashboard.store.audit import Result, record
from dashboard.web import auth
from dashboard.web.context import App
from streams.names import EventType, Hazard, SignalLevel
from streams.producer import Producer, new_event
from streams.schema import ContractError, validate

# What a desk may raise. A producer may raise any other hazard (the contract takes
# free text); a desk then keeps that period's own hazard, whatever it is (issue 20).
HAZARDS = tuple(hazard.value for hazard in Hazard)


ACTIONS = ("raise", "change_level", "note", "clear")


class SwitchRefused(ValueError):
    """The switch was not thrown; the message says why, `key` names its label."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


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
    """Raise, change, annotate or clear emergency mode for a signed-in user.

    Raising never lowers the level in force: lowering is the explicit `change_level`
    (confirmed on the desk, audited with the level it replaces). The event published
    is returned.
    """
    if not allowed(user.get("role"), Permission.SWITCH_EMERGENCY):
        with app.store.sessions.begin() as session:
            record(
                session, user.get("username"), "emergency.refused", Result.REFUSED,
                auth.address(), switch=action, role=user.get("role"),
            )  # fmt: skip
        raise NotAllowed("err_commander", "only a duty commander may switch emergency mode")
    if len((reason or "").strip()) < 2:
        raise SwitchRefused("err_reason", "a reason is required")
    with app.store.sessions() as session:
        current = emergency.state(session)
    event = _event(action, str(user.get("username")), reason.strip(), hazard, level, current)
    try:
        validate(event)
    except ContractError as error:
        raise SwitchRefused("err_contract", str(error)) from None
    # The emergency lane: every screen hears it within a second, whatever is queued.
    Producer(app.redis, app.settings.stream_key).publish_lane(event)
    with app.store.sessions.begin() as session:
        record(
            session,
            user.get("username"),
            "emergency.requested",
            Result.OK,
            auth.address(),
            switch=action,
            hazard=hazard,
            level=level,
            was=current["level"] if current else None,
            reason=reason.strip(),
        )
    return event


def _event(
    action: str,
    by: str,
    reason: str,
    hazard: str | None,
    level: str | None,
    current: dict[str, Any] | None,
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise SwitchRefused("err_action", f"action must be one of {', '.join(ACTIONS)}")
    if action == "clear":
        return new_event(EventType.EMERGENCY_CLEARED, by=by, note=reason)
    if action == "raise":
        _check_hazard(hazard, current)
        _check_level(level)
        _check_raise(current, str(level))
    elif current is None:
        raise SwitchRefused("err_none_active", "no emergency is in force")
    elif action == "change_level":
        _check_level(level)
        if level == current["level"]:
            raise SwitchRefused("err_same_level", f"{level} is already in force")
        hazard = current["hazard"]
    else:  # a new note at the level in force
        hazard, level = current["hazard"], current["level"]
    return new_event(
        EventType.EMERGENCY_RAISED, hazard=hazard, level=level, by=by, note=reason, force=True
    )


def _check_hazard(hazard: str | None, current: dict[str, Any] | None) -> None:
    # The period in force may have a producer's hazard: raising it keeps that word.
    if hazard in HAZARDS or (current is not None and hazard == current["hazard"]):
        return
    raise SwitchRefused("err_hazard", f"hazard must be one of {', '.join(HAZARDS)}")


def _check_level(level: str | None) -> None:
    if level not in {s.value for s in SignalLevel}:
        raise SwitchRefused("err_level", "level must be a signal colour")


def _check_raise(current: dict[str, Any] | None, level: str) -> None:
    # A raise only moves the city up: lowering orange to yellow is its own action.
    if current is not None and rank(level) <= rank(current["level"]):
        raise SwitchRefused(
            "err_not_higher",
            f"{current['level']} is in force: raising needs a higher level; "
            "lowering it is 'change level'",
        )
