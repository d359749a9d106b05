"""Emergency mode (typhoon, rainstorm…): the policy and the periods over time.

When a warning signal goes up far enough, the city switches into emergency mode:
cases of emergency classes dispatched from then on count natural time with a cap
(at most 12 hours, tighter at red), and every screen shows it. The mode and its
levels over time are stored, so a restart comes back in the same mode and every
past period can be reported on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from dashboard.domain.configfile import ConfigError, read_yaml, record
from streams.names import SignalLevel

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


class Period(Protocol):
    """One emergency period as the timeline reads it (the store keeps the rows)."""

    id: int
    level: str
    raised_at: datetime
    cleared_at: datetime | None


class LevelChange(Protocol):
    """A level taken during a period."""

    level: str
    at: datetime


@dataclass
class Timeline:
    """The emergency periods a batch of events may fall in, kept up to date as it runs.

    A case's deadline depends on whether an emergency was in force when it was
    dispatched, judged by the event's own time, so that late events and rebuilds
    from history come out the same as live ingest.
    """

    periods: list[Period]
    levels: dict[int, list[LevelChange]]

    @property
    def active(self) -> Period | None:
        """The period in force now, if any."""
        return next((p for p in reversed(self.periods) if p.cleared_at is None), None)

    def level_at(self, at: datetime) -> SignalLevel | None:
        """The signal level in force at a moment, or None outside emergencies."""
        for period in reversed(self.periods):
            if period.raised_at <= at and (period.cleared_at is None or at < period.cleared_at):
                current = [row for row in self.levels.get(period.id, []) if row.at <= at]
                return SignalLevel(current[-1].level if current else period.level)
        return None
