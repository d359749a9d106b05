"""What a screen loads to draw itself from scratch: open cases, KPIs, the emergency.

The wall's page carries it on first load and `/api/snapshot` serves it after a
reconnect; pushes after it bring the screen up to date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis

from dashboard.store import emergency
from dashboard.store.figures import kpi_strip, unit_rates
from dashboard.store.snapshot import epoch_ms, open_cases
from dashboard.web.context import App
from streams.names import push_sequence_key
from streams.sequence import Sequence


def snapshot(app: App) -> dict[str, Any]:
    """Everything a screen needs to draw itself from scratch, and its push position.

    The push sequence is read before the database: every push numbered up to it is
    in the snapshot, so a screen applies only the pushes after it.
    """
    try:
        epoch, seq = Sequence(app.redis, push_sequence_key(app.settings.stream_key)).current()
    except (redis.ConnectionError, redis.TimeoutError):
        epoch, seq = None, None  # without Redis no position: the next push's is taken
    now = datetime.now(UTC)
    with app.store.sessions() as session:
        current = emergency.state(session)
        raised = current["raised_at"] if current is not None else None
        return {
            "now": epoch_ms(now),
            "build": app.build,
            "cases": open_cases(session),
            "kpis": kpi_strip(session, now, app.timezone, emergency_raised_ms=raised),
            "units": unit_rates(session, now, app.timezone),
            "emergency": current,
            "epoch": epoch,
            "seq": seq,
        }
