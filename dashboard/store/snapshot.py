"""What screens are sent: compact case summaries and the open-case snapshot.

Screens compute traffic lights and countdowns themselves from `dl` (deadline) and
`wa` (warn_at, where yellow starts), so a light turns without any push. A snapshot
sends its cases as columns and rows (the keys once, not once per case): at 100,000
open cases that is a third of the bytes, and it is read with one Core query instead
of 100,000 ORM objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.store.models import Case
from streams.names import OPEN_STATES

COLUMNS = ("id", "st", "dep", "k", "cat", "u", "lon", "lat", "dis", "rep", "dl", "wa", "em", "sv")
_SOURCES = (
    Case.case_id, Case.state, Case.department, Case.kind, Case.category, Case.urgency,
    Case.lon, Case.lat, Case.district, Case.reported_at, Case.deadline, Case.warn_at,
    Case.emergency, Case.supervised,
)  # fmt: skip


def epoch_ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch, the form browsers count in."""
    return None if moment is None else int(moment.timestamp() * 1000)


def _values(case: Any) -> list[Any]:
    """A case's summary values in COLUMNS order (from a Case or a result row)."""
    return [
        case.case_id, case.state, case.department, case.kind, case.category, case.urgency,
        round(case.lon, 6), round(case.lat, 6), case.district, epoch_ms(case.reported_at),
        epoch_ms(case.deadline), epoch_ms(case.warn_at), case.emergency, case.supervised,
    ]  # fmt: skip


def case_summary(case: Case) -> dict[str, Any]:
    """The compact form of one case that walls keep in memory."""
    return dict(zip(COLUMNS, _values(case), strict=True))


def open_cases(session: Session) -> dict[str, Any]:
    """Every open case as {"cols": COLUMNS, "rows": [...]}, most urgent deadline first."""
    query = (
        select(*_SOURCES)
        .where(Case.state.in_(OPEN_STATES))
        .order_by(Case.deadline.is_(None), Case.deadline)
    )
    return {"cols": list(COLUMNS), "rows": [_values(row) for row in session.execute(query)]}
