"""What the workflow knows of a case: the fields it reads and writes.

The store's `Case` row has exactly these; the domain names them as a protocol so
that the rules never import the storage layer that keeps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class CaseRecord(Protocol):
    """The current state of one case, as the workflow folds its events into it."""

    case_id: str
    state: str
    kind: str
    category: str
    urgency: str
    source: str
    lon: float
    lat: float
    district: str | None
    street: str | None
    grid: str | None
    address: str | None
    description: str | None
    department: str | None
    reported_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    deadline: datetime | None
    warn_at: datetime | None
    suspended_at: datetime | None
    limit_value: float | None
    limit_unit: str | None
    closed_on_time: bool | None
    extended_hours: float
    extensions: int
    returns: int
    reworks: int
    urges: int
    supervised: bool
    emergency: bool
    updated_at: datetime
