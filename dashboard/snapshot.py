"""What screens are sent: compact case summaries and the open-case snapshot.

Screens compute traffic lights and countdowns themselves from `dl` (deadline) and
`wa` (warn_at, where yellow starts), so a light turns without any push.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.models import Case
from streams.names import CaseState

OPEN_STATES = [state.value for state in CaseState if state.is_open]


def epoch_ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch, the form browsers count in."""
    return None if moment is None else int(moment.timestamp() * 1000)


def case_summary(case: Case) -> dict[str, Any]:
    """The compact form of one case that walls keep in memory."""
    return {
        "id": case.case_id,
        "st": case.state,
        "dep": case.department,
        "k": case.kind,
        "cat": case.category,
        "u": case.urgency,
        "lon": round(case.lon, 6),
        "lat": round(case.lat, 6),
        "dis": case.district,
        "rep": epoch_ms(case.reported_at),
        "dl": epoch_ms(case.deadline),
        "wa": epoch_ms(case.warn_at),
        "em": case.emergency,
        "sv": case.supervised,
    }


def open_cases(session: Session, limit: int | None = None) -> list[dict[str, Any]]:
    """Summaries of every open case, most urgent deadline first."""
    query = (
        select(Case)
        .where(Case.state.in_(OPEN_STATES))
        .order_by(Case.deadline.is_(None), Case.deadline)
        .limit(limit)
    )
    return [case_summary(case) for case in session.scalars(query)]
