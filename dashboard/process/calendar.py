"""`commandhall calendar reload`: take the calendar file now, without a restart.

The open deadlines it changes are recomputed and audited in the database at once and
pushed to the screens through the message queue; a running ingest worker sees the
file too and takes the same calendar (its recompute then finds nothing left to do).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis

from dashboard import runtime
from dashboard.domain.city import city_rules
from dashboard.ingest.pusher import Pusher
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from dashboard.store.models import Case
from dashboard.store.recalc import apply_calendar
from dashboard.store.snapshot import epoch_ms

log = logging.getLogger(__name__)


def reload(settings: Settings, actor: str = "commandhall calendar reload") -> list[str]:
    """Apply the city's calendar to the store; what it did, in lines."""
    rules = city_rules(settings)  # a broken file is refused before anything changes
    engine = make_engine(settings.resolved_database_url)
    init_db(engine, upgrade=settings.db_upgrade)
    store = Store(engine, rules)
    with store.sessions.begin() as session:
        result = apply_calendar(session, rules, datetime.now(UTC), actor)
    engine.dispose()
    if not result.new:
        return [f"calendar {result.fingerprint} already in force: nothing changed"]
    lines = [
        f"calendar {result.fingerprint} loaded: {len(result.changed_days)} days changed, "
        f"{len(result.cases)} open deadlines recomputed (see the audit log)"
    ]
    if result.cases:
        lines.append(_push(settings, list(result.cases.values())))
    return lines


def _push(settings: Settings, cases: list[Case]) -> str:
    try:
        Pusher(runtime.redis_url(settings), settings.stream_key).cases(
            cases, epoch_ms(datetime.now(UTC)) or 0
        )
    except (redis.ConnectionError, redis.TimeoutError, runtime.StartupError) as error:
        # The database holds the new deadlines; screens get them at their next snapshot.
        log.warning("Calendar: push failed: %s", error)
        return f"screens not told ({error}); they see the new deadlines on their next load"
    return f"pushed {len(cases)} case(s) to the screens"
