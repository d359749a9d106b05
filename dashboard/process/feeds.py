"""Real feeds wired from settings: replays of 311 exports into the stream."""

from __future__ import annotations

from pathlib import Path

from dashboard import runtime
from dashboard.domain.catalogue import DEFAULT_DIR, load_catalogue
from dashboard.domain.configfile import ConfigError
from dashboard.feeds.records import detect_file
from dashboard.feeds.replay import Summary, replay
from dashboard.feeds.stories import MAPPING_FILE, load_mapping
from dashboard.settings import Settings
from streams.producer import Producer


def run_replay(
    settings: Settings,
    path: Path,
    family: str = "auto",
    speed: float = 0.0,
    from_now: bool = False,
    mapping_file: Path | None = None,
) -> Summary:
    """Replay an export into the configured stream with the city's mapping."""
    city = Path(settings.city_dir) if settings.city_dir else DEFAULT_DIR
    found = detect_file(path)
    if family != "auto" and family != found:
        raise ConfigError(path.name, 1, f"the file reads as {found}, not {family}")
    mapping_path = mapping_file or city / MAPPING_FILE
    if not mapping_path.exists():
        raise ConfigError(str(mapping_path), None, "no replay mapping for this city")
    catalogue = load_catalogue(city)
    producer = Producer(runtime.connect(runtime.redis_url(settings)), settings.stream_key)
    return replay(
        path, load_mapping(mapping_path), catalogue.timezone, producer,
        speed=speed, from_now=from_now,
    )  # fmt: skip
