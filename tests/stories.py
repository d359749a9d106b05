"""Case stories for tests: the events a producer publishes for one case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from streams.producer import new_event


def story(
    case_id: str,
    dispatched_at: datetime,
    department: str | None = "sanitation",
    *,
    reported_before: timedelta = timedelta(minutes=20),
    filed_before: timedelta = timedelta(minutes=15),
    deadline: datetime | None = None,
    **report: Any,
) -> list[dict[str, Any]]:
    """A case reported, filed and (unless department is None) dispatched at `dispatched_at`.

    The report defaults to exposed garbage (event 0102) from an inspector in Xiangzhou;
    keyword arguments change any of its fields.
    """
    fields = {"source": "inspector", "kind": "event", "category": "0102",
              "lon": 113.55, "lat": 22.25, **report}  # fmt: skip
    events = [
        new_event("case.reported", case_id, dispatched_at - reported_before, **fields),
        new_event("case.filed", case_id, dispatched_at - filed_before),
    ]
    if department is not None:
        extra = {"deadline": deadline} if deadline is not None else {}
        events.append(
            new_event("case.dispatched", case_id, dispatched_at, department=department, **extra)
        )
    return events
