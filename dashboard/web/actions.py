"""What a person in the hall does to a case: urge (催办), supervise (督办), flag.

Each action is checked against the permission table for the signed-in user, written
to the audit log, and published on the stream as its contract-v1 event, so that the
upstream case system learns it too and our own screens see it come back like any
other event (the table and the detail change when the ingest worker applies it).
Refusals are audited as well: an assessor wants to see who tried what.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.domain.access import Permission, allowed
from dashboard.store.audit import Result, record
from dashboard.web import auth
from dashboard.web.context import App
from streams.names import OPEN_STATES, EventType
from streams.producer import Producer, new_event
from streams.schema import ContractError, validate

# action -> (event published, permission needed)
ACTIONS: dict[str, tuple[EventType, Permission]] = {
    "urge": (EventType.URGED, Permission.URGE),
    "supervise": (EventType.SUPERVISED, Permission.SUPERVISE),
    "flag": (EventType.FLAGGED, Permission.FLAG),
}
NOTE_MIN, NOTE_MAX = 2, 500


class ActionRefused(ValueError):
    """An action that is not done, with the i18n key of its reason and an HTTP status."""

    def __init__(self, key: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.key, self.status = key, status


def act(app: App, user: dict[str, Any], case_id: str, action: str, note: str) -> dict[str, Any]:
    """Check, audit and publish one action on a case; the event published."""
    try:
        event = _checked(app, user, case_id, action, note)
    except ActionRefused as refused:
        with app.store.sessions.begin() as session:
            record(session, user.get("username"), "case.action_refused", Result.REFUSED,
                   auth.address(), case=case_id, asked=action, reason=str(refused))  # fmt: skip
        raise
    with app.store.sessions.begin() as session:
        # Audited in the transaction that the publish happens in: no entry without it.
        record(session, user.get("username"), f"case.{action}", Result.OK, auth.address(),
               case=case_id, note=event.get("note"), event_id=event["event_id"])  # fmt: skip
        # The emergency lane: it reaches screens ahead of any backlog, after the
        # case's own earlier events (streams.lane).
        Producer(app.redis, app.settings.stream_key).publish_lane(event)
    return event


def _checked(
    app: App, user: dict[str, Any], case_id: str, action: str, note: str
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ActionRefused("err_action", f"action must be one of {', '.join(ACTIONS)}")
    event_type, permission = ACTIONS[action]
    if not user.get("username") or not allowed(user.get("role"), permission):
        raise ActionRefused("err_role", f"your role may not {action} a case", 403)
    text = (note or "").strip()
    if not NOTE_MIN <= len(text) <= NOTE_MAX:
        raise ActionRefused("err_note", f"a note of {NOTE_MIN}–{NOTE_MAX} characters is required")
    found = app.store.case(case_id)
    if found is None:
        raise ActionRefused("err_case", f"no case {case_id}", 404)
    if found.state not in OPEN_STATES:
        raise ActionRefused("err_closed", f"case {case_id} is {found.state}: not open", 409)
    event = new_event(event_type.value, case_id, datetime.now(UTC), by=user["username"], note=text)
    try:
        validate(event)
    except ContractError as error:
        raise ActionRefused("err_contract", str(error)) from None
    return event
