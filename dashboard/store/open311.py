"""Cases as Open311 GeoReport v2 reads them: filtered, newest first, with last notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dashboard.store.models import Case, EventRow
from streams.names import CLOSED_STATES


@dataclass(frozen=True)
class RequestQuery:
    """The standard's filters: ids, service codes, a requested-time window, status."""

    start: datetime
    end: datetime
    ids: Sequence[str] = ()
    codes: Sequence[tuple[str, str]] = ()  # (kind, code)
    status: str | None = None  # open | closed
    limit: int = 1000


def requests(session: Session, query: RequestQuery) -> list[tuple[Case, str | None]]:
    """Matching cases, newest first, each with its last note (status_notes)."""
    found = select(Case).order_by(Case.reported_at.desc()).limit(query.limit)
    if query.ids:
        found = found.where(Case.case_id.in_(list(query.ids)))
    else:
        found = found.where(Case.reported_at >= query.start, Case.reported_at < query.end)
    if query.codes:
        found = found.where(
            or_(*[and_(Case.kind == kind, Case.category == code) for kind, code in query.codes])
        )
    if query.status == "closed":
        found = found.where(Case.state.in_(CLOSED_STATES))
    elif query.status == "open":
        found = found.where(Case.state.not_in(CLOSED_STATES))
    cases = list(session.scalars(found))
    return [(case, note) for case, note in zip(cases, last_notes(session, cases), strict=True)]


def last_notes(session: Session, cases: Sequence[Case]) -> list[str | None]:
    """The note of each case's latest event that has one."""
    ids = [case.case_id for case in cases]
    if not ids:
        return []
    latest = (
        select(EventRow.case_id, func.max(EventRow.id).label("id"))
        .where(EventRow.case_id.in_(ids), EventRow.note.is_not(None))
        .group_by(EventRow.case_id)
        .subquery()
    )
    query = select(EventRow.case_id, EventRow.note).join(latest, EventRow.id == latest.c.id)
    notes = {case_id: note for case_id, note in session.execute(query)}
    return [notes.get(case_id) for case_id in ids]
