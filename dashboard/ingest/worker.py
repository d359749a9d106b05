"""The ingest worker: stream → SQL → browsers.

Applies each batch through the `Store`, then pushes the changed cases. Pushes are
coalesced: changes are gathered and sent at most every `coalesce_s`, so a typhoon
burst becomes a few messages a second instead of one per event. The KPI strip
follows in its own message at most every `kpis_s`; the emergency state goes at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy.exc import SQLAlchemyError

from dashboard.domain.lifecycle import Rules
from dashboard.ingest import metrics
from dashboard.ingest.pusher import Pusher
from dashboard.store import emergency, recalc
from dashboard.store.batch import Store, is_outage
from dashboard.store.figures import SlowFigures, kpi_strip
from dashboard.store.models import Case
from dashboard.store.snapshot import epoch_ms
from streams.consumer import Consumer, Handled, Item, Outage
from streams.names import Push
from streams.schema import Window

log = logging.getLogger(__name__)


class Ingest:
    """Consumes the case stream into the store and pushes changes to screens."""

    def __init__(
        self,
        connection: redis.Redis,
        store: Store,
        pusher: Pusher | None,
        *,
        stream: str,
        group: str,
        name: str,
        timezone: str = "Asia/Shanghai",
        batch_size: int = 500,
        lease_ms: int = 5_000,
        max_deliveries: int = 10,
        window: Window | None = None,
        coalesce_s: float = 0.1,
        heartbeat_s: float = 10.0,
        kpis_s: float = 1.0,
        slow_s: float = 15.0,
        calendar_watch: Callable[[], Rules | None] | None = None,
        housekeeping: Callable[[], object] | None = None,
    ) -> None:
        self.store, self.pusher, self.timezone = store, pusher, timezone
        self.coalesce_s, self.heartbeat_s, self.kpis_s = coalesce_s, heartbeat_s, kpis_s
        # Counting today's flow costs a scan of the day: at most once a second.
        self._kpis_dirty, self._last_kpis = False, 0.0
        self.consumer = Consumer(
            connection,
            stream,
            group,
            name,
            self.handle,
            count=batch_size,
            lease_ms=lease_ms,
            max_deliveries=max_deliveries,
            window=window,
            on_active=store.forget,
            on_lane=self.push_lane,
        )
        self.consumer.on_set_aside = metrics.count_set_aside
        self.slow = SlowFigures(timezone, every=slow_s)
        # Cases changed since the slow figures were last computed: once they are due
        # again, a KPI push goes out even if no more events come, so a burst's last
        # changes reach the month's rates within `slow_s` (not at the next event).
        self._slow_stale = False
        self._changed: dict[str, Case] = {}
        self._emergency_changed = True  # screens learn the state the worker starts in
        self._emergency: dict[str, Any] | None = None
        self._last_push = 0.0
        # Gives new rules when the city's calendar file changed (else None).
        self.calendar_watch = calendar_watch
        # Daily chores of the one active worker (the audit archive), between batches.
        self.housekeeping = housekeeping
        self._calendar_pending: Rules | None = None

    def handle(self, items: Sequence[Item]) -> Handled:
        """Apply a batch; a database outage becomes `Outage` so it is retried."""
        started = time.perf_counter()
        try:
            result = self.store.apply_batch(items)
        except Exception as error:
            if is_outage(error):
                # The driver's first line says it; the SQL and parameters only flood the log.
                cause = str(getattr(error, "orig", None) or error).splitlines()[0]
                raise Outage(f"database unreachable: {cause}") from error
            raise
        metrics.observe(time.perf_counter() - started, result.applied, result.duplicates)
        self._changed.update(result.cases)
        self._emergency_changed = self._emergency_changed or result.emergency_changed
        log.debug(
            "Ingest %s: %d applied, %d duplicate, %d rejected",
            self.consumer.name,
            len(result.applied),
            len(result.duplicates),
            len(result.rejected),
        )
        return Handled(rejected=result.rejected)

    def flush(self, force: bool = False) -> None:
        """Push gathered changes if the coalescing window has passed."""
        if self.pusher is None:
            return
        if self._emergency_changed:
            self.push_emergency()
        due = force or time.monotonic() - self._last_push >= self.coalesce_s
        if self._changed and due:
            # Cases first and alone: nothing slower may hold them back.
            self.pusher.cases(self._changed.values(), epoch_ms(datetime.now(UTC)) or 0)
            self._changed.clear()
            self._last_push = time.monotonic()
            self._kpis_dirty = self._slow_stale = True
        if self._slow_stale and self.slow.due():
            self._kpis_dirty = True
        if self._kpis_dirty and (force or time.monotonic() - self._last_kpis >= self.kpis_s):
            self.push_kpis()
        self._heartbeat()

    def push_lane(self) -> None:
        """Push what the emergency lane changed now, ahead of the stream's batch."""
        if self.pusher is None:
            return
        try:
            if self._emergency_changed:
                self.push_emergency()
            if self._changed:
                self.pusher.cases(self._changed.values(), epoch_ms(datetime.now(UTC)) or 0)
                self._changed.clear()
                self._last_push = time.monotonic()
                self._kpis_dirty = self._slow_stale = True
        except (redis.ConnectionError, redis.TimeoutError, SQLAlchemyError) as error:
            log.warning("Ingest %s: push failed: %s", self.consumer.name, error)

    def push_kpis(self) -> None:
        """Send the KPI strip (and, when refreshed, the units' rates and the trend)."""
        assert self.pusher is not None
        now = datetime.now(UTC)
        raised = self._emergency["raised_at"] if self._emergency is not None else None
        with self.store.sessions() as session:
            strip = kpi_strip(
                session, now, self.timezone, emergency_raised_ms=raised, slow=self.slow
            )
        fresh = "trend" in strip  # the slow figures were just recomputed
        self._slow_stale = self._slow_stale and not fresh
        units = self.slow.units if fresh else None
        self.pusher.kpis(strip, epoch_ms(now) or 0, units)
        self._kpis_dirty, self._last_kpis = False, time.monotonic()

    def push_emergency(self) -> None:
        """Tell every screen the emergency state at once: it is never coalesced."""
        assert self.pusher is not None
        now = datetime.now(UTC)
        with self.store.sessions() as session:
            current = self._emergency = emergency.state(session)
        self.pusher.emit(Push.EMERGENCY, {"emergency": current, "now": epoch_ms(now)})
        self._emergency_changed = False
        log.info("Ingest %s: emergency now %s", self.consumer.name, current)

    def _heartbeat(self) -> None:
        # A quiet night must not look like a dead pipeline: screens judge the age of
        # their data by the last message, so the worker speaks at least this often.
        if self.pusher is None or time.monotonic() - self._last_push < self.heartbeat_s:
            return
        self.pusher.emit(Push.HEARTBEAT, {"now": epoch_ms(datetime.now(UTC))})
        self._last_push = time.monotonic()

    def load_calendar(self, rules: Rules | None = None) -> int:
        """Take the rules' calendar (the store's by default): record it and recompute
        the open deadlines it changes, which the next push sends; how many moved."""
        previous = self.store.rules
        rules = rules or previous
        with self.store.sessions.begin() as session:
            result = recalc.apply_calendar(
                session, rules, datetime.now(UTC), f"ingest {self.consumer.name}", previous
            )
        self.store.rules = rules
        self._changed.update(result.cases)
        return len(result.cases)

    def _reload_calendar(self) -> None:
        # Kept until applied: a database outage retries it at the next step.
        changed = self.calendar_watch() if self.calendar_watch else None
        self._calendar_pending = changed or self._calendar_pending
        if self._calendar_pending is not None:
            moved = self.load_calendar(self._calendar_pending)
            self._calendar_pending = None
            log.info("Ingest %s: calendar reloaded, %d deadlines moved", self.consumer.name, moved)

    def run(self, stop: threading.Event) -> None:
        """Consume and push until `stop` is set."""
        # The calendar is recorded (and deadlines it changed recomputed) after the
        # first step, where a database outage is retried rather than fatal.
        self._calendar_pending = self.store.rules
        self.consumer.ensure_group()
        log.info("Ingest %s: consuming %s", self.consumer.name, self.consumer.stream)
        self.consumer.run(stop, after_step=self._after_step)

    def _after_step(self) -> None:
        try:
            self._reload_calendar()
            self.flush()
            if self.housekeeping is not None:
                self.housekeeping()
        except (redis.ConnectionError, redis.TimeoutError, SQLAlchemyError) as error:
            # The changes stay gathered and go out with the next push.
            log.warning("Ingest %s: push failed: %s", self.consumer.name, error)
