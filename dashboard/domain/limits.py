"""Handling limits (处置时限): an amount and the kind of time it is counted in."""

from dataclasses import dataclass
from enum import StrEnum


class LimitUnit(StrEnum):
    """Natural hours run around the clock; working time only in office hours."""

    NATURAL_HOURS = "natural_hours"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"

    @property
    def is_working_time(self) -> bool:
        """Whether the unit is counted on the working calendar."""
        return self is not LimitUnit.NATURAL_HOURS


@dataclass(frozen=True)
class Limit:
    """A handling limit such as 4 working hours or 2 natural hours."""

    value: float
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError(f"a limit must be positive, got {self.value}")

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit.value}"
