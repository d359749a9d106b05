"""What a leader drills into: the worst overdue cases, a group's open cases by light.

The lights are the wall's (dashboard.domain.lifecycle.light_of): none while a case
has no deadline or is suspended (挂账), red from its deadline, yellow from warn_at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.lifecycle import light_of
from dashboard.store.kpis import GroupBy
from dashboard.store.models import Case
from streams.names import OPEN_STATES, CaseState

LIGHTS = ("red", "yellow", "green", "none")


def worst_overdue(session: Session, now: datetime, limit: int = 10) -> list[Case]:
    """Open running cases past their deadline, longest overdue first."""
    query = (
        select(Case)
        .where(
            Case.state.in_(OPEN_STATES),
            Case.state != CaseState.SUSPENDED.value,
            Case.deadline <= now,
        )
        .order_by(Case.deadline, Case.case_id)
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass
class ByLight:
    """A group's open cases sorted into lights, each most urgent deadline first."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIGHTS, 0))
    cases: dict[str, list[Case]] = field(default_factory=lambda: {k: [] for k in LIGHTS})

    @property
    def total(self) -> int:
        """All the group's open cases."""
        return sum(self.counts.values())


def open_by_light(
    session: Session, by: GroupBy, code: str, now: datetime, per_light: int = 30
) -> ByLight:
    """A unit's (or district's) open cases by light; at most `per_light` listed per light."""
    query = (
        select(Case)
        .where(Case.state.in_(OPEN_STATES), getattr(Case, by) == code)
        .order_by(Case.deadline.is_(None), Case.deadline, Case.case_id)
    )
    found = ByLight()
    # A unit holds tens to a few thousand open cases: sorting them here is cheap and
    # keeps the light rule in one place (the domain's), not copied into SQL.
    for row in session.scalars(query):
        light = light_of(row, now)
        name = light.value if light is not None else "none"
        found.counts[name] += 1
        if len(found.cases[name]) < per_light:
            found.cases[name].append(row)
    return found
