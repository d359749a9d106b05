"""Real feeds wired from settings: 311 replays and Open311 pulls into the stream."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from dashboard import runtime
from dashboard.domain.catalogue import DEFAULT_DIR, load_catalogue
from dashboard.domain.configfile import ConfigError
from dashboard.feeds.open311 import Client, Puller, PullSummary, pull
from dashboard.feeds.records import detect_file
from dashboard.feeds.replay import Summary, replay
from dashboard.feeds.stories import MAPPING_FILE, load_mapping
from dashboard.settings import Settings
from streams.producer import Producer


def _city(settings: Settings) -> Path:
    return Path(settings.city_dir) if settings.city_dir else DEFAULT_DIR


def _mapping_path(settings: Settings, given: Path | None) -> Path:
    path = given or _city(settings) / MAPPING_FILE
    if not path.exists():
        raise ConfigError(str(path), None, "no mapping for this city (give --mapping)")
    return path


def _producer(settings: Settings) -> Producer:
    return Producer(runtime.connect(runtime.redis_url(settings)), settings.stream_key)


def run_open311_pull(
    settings: Settings,
    client: Client,
    since: datetime,
    every: float | None,
    stop: threading.Event,
    mapping_file: Path | None = None,
) -> PullSummary:
    """Poll a GeoReport v2 server into the configured stream with the city's mapping."""
    mapping = load_mapping(_mapping_path(settings, mapping_file))
    timezone = load_catalogue(_city(settings)).timezone
    state = f"{settings.stream_key}:open311:{client.endpoint}"
    puller = Puller(client, mapping, _producer(settings), timezone, state)
    return pull(puller, since, every, stop)


def run_replay(
    settings: Settings,
    path: Path,
    family: str = "auto",
    speed: float = 0.0,
    from_now: bool = False,
    mapping_file: Path | None = None,
    limit: int | None = None,
) -> Summary:
    """Replay an export into the configured stream with the city's mapping."""
    found = detect_file(path)
    if family != "auto" and family != found:
        raise ConfigError(path.name, 1, f"the file reads as {found}, not {family}")
    mapping = load_mapping(_mapping_path(settings, mapping_file))
    timezone = load_catalogue(_city(settings)).timezone
    producer = _producer(settings)
    return replay(path, mapping, timezone, producer, speed=speed, from_now=from_now, limit=limit)
