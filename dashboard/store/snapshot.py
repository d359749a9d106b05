"""What screens are sent: compact case summaries and the open-case snapshot.

Screens compute traffic lights and countdowns themselves from `dl` (deadline) and
`wa` (warn_at, where yellow starts), so a light turns without any push. A snapshot
sends its cases as columns and rows (the keys once, not once per case): at 100,000
open cases that is a third of the bytes, and it is read with one Core query instead
of 100,000 ORM objects.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dashboard.store.models import Case
from streams.names import OPEN_STATES

COLUMNS = ("id", "st", "dep", "k", "cat", "u", "lon", "lat", "dis", "rep", "dl", "wa", "em", "sv")
# The desk's table wants more of each case than a wall: street, source, urges,
# returns, address and description (for its free-text filter). Pushes carry them all;
# walls ignore what they do not draw, and their snapshot holds only COLUMNS.
DESK_COLUMNS = (*COLUMNS, "str", "src", "ug", "ret", "addr", "desc")
_SOURCES = {
    "id": Case.case_id, "st": Case.state, "dep": Case.department, "k": Case.kind,
    "cat": Case.category, "u": Case.urgency, "lon": Case.lon, "lat": Case.lat,
    "dis": Case.district, "rep": Case.reported_at, "dl": Case.deadline, "wa": Case.warn_at,
    "em": Case.emergency, "sv": Case.supervised, "str": Case.street, "src": Case.source,
    "ug": Case.urges, "ret": Case.returns, "addr": Case.address, "desc": Case.description,
}  # fmt: skip
_TIMES = frozenset({"rep", "dl", "wa"})
# Descriptions can be long; the table shows the start and filters on it.
DESCRIPTION_CHARS = 200


def epoch_ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch, the form browsers count in."""
    return None if moment is None else int(moment.timestamp() * 1000)


def _values(row: Any, columns: tuple[str, ...]) -> list[Any]:
    """A case's summary values in `columns` order (from a result row or a list)."""
    values = list(row)
    # Only the few columns that need converting are touched: at 100,000 rows a call
    # per cell would cost the wall's snapshot a third of a second.
    for index in _converted(columns):
        value, column = values[index], columns[index]
        if value is None:
            continue
        if column in _TIMES:
            values[index] = int(value.timestamp() * 1000)
        elif column == "desc":
            values[index] = value[:DESCRIPTION_CHARS]
        else:
            values[index] = round(value, 6)
    return values


@functools.cache
def _converted(columns: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(columns) if c in _TIMES or c in ("lon", "lat", "desc"))


def case_summary(case: Case) -> dict[str, Any]:
    """The compact form of one case that screens keep in memory (pushes: every column)."""
    row = [getattr(case, _SOURCES[column].key) for column in DESK_COLUMNS]
    return dict(zip(DESK_COLUMNS, _values(row, DESK_COLUMNS), strict=True))


def select_cases(columns: tuple[str, ...] = COLUMNS) -> Select[Any]:
    """A query of cases' summary columns, to narrow with .where() and read with rows()."""
    return select(*(_SOURCES[column] for column in columns))  # type: ignore[return-value]


def rows(session: Session, query: Select[Any], columns: tuple[str, ...]) -> list[list[Any]]:
    """The summary rows a query from select_cases(columns) finds."""
    return [_values(row, columns) for row in session.execute(query)]


def open_cases(session: Session, columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    """Every open case as {"cols": columns, "rows": [...]}, most urgent deadline first."""
    query = (
        select_cases(columns)
        .where(Case.state.in_(OPEN_STATES))
        .order_by(Case.deadline.is_(None), Case.deadline)
    )
    return {"cols": list(columns), "rows": rows(session, query, columns)}
