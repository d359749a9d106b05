"""Background processes wired from settings: the ingest worker and the simulator.

Neither imports the web app; the ingest worker reaches browsers through the
Socket.IO message queue only.
"""

from __future__ import annotations

import threading

from dashboard import runtime
from dashboard.domain.city import city_rules
from dashboard.ingest.pusher import Pusher
from dashboard.ingest.worker import Ingest
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from streams.producer import Producer


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
    )


def run_simulator(
    settings: Settings,
    rate: float,
    seed: int | None,
    backfill_hours: float,
    stop: threading.Event,
) -> None:
    """Publish a simulated city into the stream until `stop` is set."""
    from dashboard.sim.simulator import CitySimulator, SimulatorConfig

    rules = city_rules(settings)
    producer = Producer(runtime.connect(runtime.redis_url(settings)), settings.stream_key)
    config = SimulatorConfig(rate=rate, seed=seed, backfill_hours=backfill_hours)
    CitySimulator(rules.catalogue, rules.calendar, config).run(producer, stop)
