"""Background processes wired from settings: the ingest worker and the simulator.

Neither imports the web app; the ingest worker reaches browsers through the
Socket.IO message queue only.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from dashboard import runtime
from dashboard.city import city_rules
from dashboard.db import init_db, make_engine
from dashboard.ingest import Ingest
from dashboard.live import Pusher
from dashboard.settings import Settings
from dashboard.store import Store
from streams.producer import Producer
from streams.schema import Window


def build_ingest(settings: Settings, name: str) -> Ingest:
    """An ingest worker for the settings, connected and ready to run."""
    rules = city_rules(settings)  # a broken city file is the first thing to hear about
    url = runtime.redis_url(settings)
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    return Ingest(
        runtime.connect(url),
        Store(engine, rules),
        Pusher(url),
        stream=settings.stream_key,
        group=settings.consumer_group,
        name=name,
        timezone=rules.catalogue.timezone,
        batch_size=settings.batch_size,
        lease_ms=int(settings.lease_s * 1000),
        max_deliveries=settings.max_deliveries,
        window=window(settings),
    )


def window(settings: Settings) -> Window:
    """The times events may carry, from the settings."""
    return Window(
        earliest=datetime(settings.earliest_year, 1, 1, tzinfo=UTC),
        ahead=timedelta(hours=settings.max_ahead_hours),
    )


def run_simulator(
    settings: Settings,
    rate: float,
    seed: int | None,
    backfill_hours: float,
    stop: threading.Event,
) -> None:
    """Publish a simulated city into the stream until `stop` is set."""
    from streams.simulator import CitySimulator, SimulatorConfig

    rules = city_rules(settings)
    producer = Producer(runtime.connect(runtime.redis_url(settings)), settings.stream_key)
    config = SimulatorConfig(rate=rate, seed=seed, backfill_hours=backfill_hours)
    CitySimulator(rules.catalogue, rules.calendar, config).run(producer, stop)
