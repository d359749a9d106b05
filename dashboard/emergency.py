"""Emergency mode (typhoon, rainstorm…): the policy, the periods, and applying them.

When a warning signal goes up far enough, the city switches into emergency mode:
cases of emergency classes dispatched from then on count natural time with a cap
(at most 12 hours, tighter at red), and every screen shows it. The mode and its
levels over time are stored, so a restart comes back in the same mode and every
past period can be reported on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.configfile import ConfigError, read_yaml, record
from dashboard.models import AuditEntry, Emergency, EmergencyLevel
from streams.names import EventType, SignalLevel
from streams.schema import Event

log = logging.getLogger(__name__)

POLICY_FILE = "emergency.yaml"
ORDER = list(SignalLevel)  # white < blue < yellow < orange < red


def rank(level: SignalLevel | str) -> int:
    """A signal level's place, white lowest."""
    return ORDER.index(SignalLevel(level))


@dataclass(frozen=True)
class Policy:
    """What raises emergency mode and what each level changes (city configuration)."""

    # The lowest level of each hazard that switches the city into emergency mode.
    raise_at: Mapping[str, SignalLevel] = field(
        default_factory=lambda: MappingProxyType(
            {"typhoon": SignalLevel.YELLOW, "*": SignalLevel.ORANGE}
        )
    )
    # Handling limits of emergency classes, in natural hours, by level in force.
    caps: Mapping[SignalLevel, float] = field(
        default_factory=lambda: MappingProxyType(
            {level: (6.0 if level is SignalLevel.RED else 12.0) for level in SignalLevel}
        )
    )
    # Cases dispatched before the switch keep their deadline unless this is set.
    tighten_open_cases: bool = False

    def raises(self, hazard: str, level: SignalLevel) -> bool:
        """Whether a signal switches the city into emergency mode."""
        threshold = self.raise_at.get(hazard, self.raise_at.get("*", SignalLevel.ORANGE))
        return rank(level) >= rank(threshold)

    def cap(self, level: SignalLevel | str) -> float:
        """The emergency handling limit, in natural hours, at a level."""
        return self.caps.get(SignalLevel(level), 12.0)


def load_policy(city_dir: Path | str | None) -> Policy:
    """The city's emergency policy, or the default when it has no policy file."""
    path = Path(city_dir) / POLICY_FILE if city_dir else None
    if path is None or not path.exists():
        return Policy()
    rec = record(path.name, read_yaml(path), 1)
    rec.subject = "emergency policy"
    rec.only({"raise_at", "caps", "tighten_open_cases"})
    try:
        raise_at = {k: SignalLevel(v) for k, v in dict(rec.fields.get("raise_at") or {}).items()}
        caps = {SignalLevel(k): float(v) for k, v in dict(rec.fields.get("caps") or {}).items()}
    except (TypeError, ValueError) as error:
        raise ConfigError(path.name, rec.line, f"emergency policy: {error}") from error
    if any(hours <= 0 or hours > 12 for hours in caps.values()):
        rec.fail("emergency caps must be more than 0 and at most 12 hours", "caps")
    default = Policy()
    return Policy(
        MappingProxyType(raise_at or dict(default.raise_at)),
        MappingProxyType({**default.caps, **caps}),
        rec.fields.get("tighten_open_cases") in (True, "true", "yes"),
    )


@dataclass
class Timeline:
    """The emergency periods a batch of events may fall in, kept up to date as it runs.

    A case's deadline depends on whether an emergency was in force when it was
    dispatched, judged by the event's own time, so that late events and rebuilds
    from history come out the same as live ingest.
    """

    periods: list[Emergency]
    levels: dict[int, list[EmergencyLevel]]

    @classmethod
    def load(cls, session: Session, since: datetime | None = None) -> Timeline:
        """Periods still open or cleared after `since`, with their levels."""
        query = select(Emergency).order_by(Emergency.raised_at)
        if since is not None:
            query = query.where((Emergency.cleared_at.is_(None)) | (Emergency.cleared_at > since))
        periods = list(session.scalars(query))
        ids = [p.id for p in periods]
        levels: dict[int, list[EmergencyLevel]] = {i: [] for i in ids}
        rows = select(EmergencyLevel).where(EmergencyLevel.emergency_id.in_(ids))
        for row in session.scalars(rows.order_by(EmergencyLevel.at, EmergencyLevel.id)):
            levels[row.emergency_id].append(row)
        return cls(periods, levels)

    @property
    def active(self) -> Emergency | None:
        """The period in force now, if any."""
        return next((p for p in reversed(self.periods) if p.cleared_at is None), None)

    def level_at(self, at: datetime) -> SignalLevel | None:
        """The signal level in force at a moment, or None outside emergencies."""
        for period in reversed(self.periods):
            if period.raised_at <= at and (period.cleared_at is None or at < period.cleared_at):
                current = [row for row in self.levels.get(period.id, []) if row.at <= at]
                return SignalLevel(current[-1].level if current else period.level)
        return None


def apply_event(session: Session, event: Event, policy: Policy, timeline: Timeline) -> bool:
    """Apply emergency.raised / emergency.cleared; whether the mode changed."""
    if event.type is EventType.EMERGENCY_RAISED:
        return _raised(session, event, policy, timeline)
    return _cleared(session, event, timeline)


def _raised(session: Session, event: Event, policy: Policy, timeline: Timeline) -> bool:
    hazard, level = str(event.data["hazard"]), SignalLevel(event.data["level"])
    actor = event.data.get("by")
    active = timeline.active
    forced = bool(event.data.get("force", False))
    if active is None and not (forced or policy.raises(hazard, level)):
        audit(session, event.at, actor, "emergency.signal", hazard=hazard, level=level.value)
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
        return False
    else:
        active.level = level.value
        action = "emergency.level"
    row = EmergencyLevel(emergency_id=active.id, hazard=hazard, level=level.value, at=event.at)
    session.add(row)
    timeline.levels[active.id].append(row)
    audit(
        session,
        event.at,
        actor,
        action,
        hazard=hazard,
        level=level.value,
        note=event.data.get("note"),
    )
    return True


def _cleared(session: Session, event: Event, timeline: Timeline) -> bool:
    active = timeline.active
    actor = event.data.get("by")
    if active is None:
        # A feed may clear a signal that never raised the mode: nothing to undo.
        audit(session, event.at, actor, "emergency.clear_ignored")
        return False
    active.cleared_at, active.cleared_by = event.at, actor
    active.clear_note = event.data.get("note")
    audit(session, event.at, actor, "emergency.cleared", id=active.id, note=active.clear_note)
    return True


def audit(session: Session, at: datetime, actor: str | None, action: str, **detail: Any) -> None:
    """Add an entry to the audit log (in the caller's transaction)."""
    clean = {k: v for k, v in detail.items() if v is not None}
    session.add(
        AuditEntry(at=at, actor=actor, action=action, detail=json.dumps(clean, ensure_ascii=False))
    )


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
