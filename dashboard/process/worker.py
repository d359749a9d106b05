"""Background processes wired from settings: the ingest worker and the simulator.

Neither imports the web app; the ingest worker reaches browsers through the
Socket.IO message queue only.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashboard import runtime
from dashboard.domain.calendarfile import FILENAME
from dashboard.domain.city import city_dir, city_rules
from dashboard.domain.configfile import ConfigError
from dashboard.domain.lifecycle import Rules
from dashboard.ingest.pusher import Pusher
from dashboard.ingest.worker import Ingest
from dashboard.process.retention import Chores, StreamRetention
from dashboard.settings import Settings
from dashboard.sim.simulator import CitySimulator, OpenCase, SimulatorConfig
from dashboard.store import audit
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from dashboard.store.models import Case
from streams.names import OPEN_STATES
from streams.producer import Producer
from streams.schema import Window

log = logging.getLogger(__name__)


def build_ingest(settings: Settings, name: str) -> Ingest:
    """An ingest worker for the settings, connected and ready to run."""
    rules = city_rules(settings)  # a broken city file is the first thing to hear about
    url = runtime.redis_url(settings)
    engine = make_engine(settings.resolved_database_url)
    init_db(engine, upgrade=settings.db_upgrade)
    # Said once the start-up checks passed, so that a missing Redis stays one line.
    for problem in rules.calendar.days.problems(datetime.now(rules.calendar.tz).date()):
        log.warning("Calendar %s: %s", rules.catalogue.timezone, problem)
    connection = runtime.connect(url)
    return Ingest(
        connection,
        Store(engine, rules),
        Pusher(url, settings.stream_key),
        stream=settings.stream_key,
        group=settings.consumer_group,
        name=name,
        timezone=rules.catalogue.timezone,
        batch_size=settings.batch_size,
        lease_ms=int(settings.lease_s * 1000),
        max_deliveries=settings.max_deliveries,
        window=window(settings),
        calendar_watch=CalendarWatch(settings),
        housekeeping=Chores(
            AuditArchiver(settings, sessionmaker(engine)),
            StreamRetention(
                connection,
                settings.stream_key,
                settings.stream_retention_days,
                settings.dead_letter_retention_days,
            ),
        ),
    )


class AuditArchiver:
    """Once a day, moves audit rows past the retention into the data folder's archive.

    The same as `commandhall audit archive`, run by the active ingest worker so that
    nothing needs scheduling: rows are archived (gzipped JSON lines), never dropped.
    """

    def __init__(self, settings: Settings, sessions: sessionmaker, every_s: float = 86_400) -> None:
        self.settings, self.sessions, self.every_s = settings, sessions, every_s
        self.folder = settings.data_path / "audit-archive"
        self._last: float | None = None

    def __call__(self) -> int:
        """Archive if a day has passed since the last run; how many rows moved."""
        if self._last is not None and time.monotonic() - self._last < self.every_s:
            return 0
        self._last = time.monotonic()
        try:
            moved = audit.archive(
                self.sessions, self.folder, self.settings.audit_retention_days, datetime.now(UTC)
            )
        except OSError as error:  # a full disk must not stop ingest: tried again tomorrow
            log.error("Audit: archive in %s failed: %s", self.folder, error)
            return 0
        if moved:
            log.info("Audit: %d rows older than %d days archived in %s",
                     moved, self.settings.audit_retention_days, self.folder)  # fmt: skip
        return moved


class CalendarWatch:
    """Tells the worker when the city's calendar file changed: new rules, else None.

    `commandhall calendar reload` recomputes in the database at once; the running
    worker sees the file (checked every `every_s`) and takes the same calendar, which
    then finds its work done. A file that does not load is logged and ignored.
    """

    def __init__(self, settings: Settings, every_s: float = 5.0) -> None:
        self.settings, self.every_s = settings, every_s
        self.path = city_dir(settings) / FILENAME
        self._seen, self._checked = self._stamp(), time.monotonic()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def __call__(self) -> Rules | None:
        if time.monotonic() - self._checked < self.every_s:
            return None
        self._checked, stamp = time.monotonic(), self._stamp()
        if stamp == self._seen:
            return None
        self._seen = stamp
        try:
            return city_rules(self.settings)
        except ConfigError as error:
            log.error("Calendar %s: not reloaded: %s", self.path, error)
            return None


def window(settings: Settings) -> Window:
    """The times events may carry, from the settings."""
    return Window(
        earliest=datetime(settings.earliest_year, 1, 1, tzinfo=UTC),
        ahead=timedelta(hours=settings.max_ahead_hours),
    )


def run_simulator(
    settings: Settings,
    config: SimulatorConfig,
    stop: threading.Event,
    adopt_open: bool = False,
) -> None:
    """Publish a simulated city into the stream until `stop` is set.

    With `adopt_open`, the cases an earlier run left open are played to their end
    too (a demo that kept its data), instead of going red for ever.
    """
    rules = city_rules(settings)
    producer = Producer(runtime.connect(runtime.redis_url(settings)), settings.stream_key)
    simulator = CitySimulator(rules.catalogue, rules.calendar, config)
    if adopt_open:
        engine = make_engine(settings.resolved_database_url)
        with Store(engine, rules).sessions() as session:
            simulator.adopt(open_stories(session))
        engine.dispose()
    simulator.run(producer, stop)


def open_stories(session: Session) -> list[OpenCase]:
    """The open cases, as the simulator takes them over."""
    columns = (Case.case_id, Case.state, Case.kind, Case.category, Case.urgency)
    rows = session.execute(select(*columns).where(Case.state.in_(OPEN_STATES)))
    return [OpenCase(*row) for row in rows]
