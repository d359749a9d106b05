"""Every setting, declared once: name, default and help text.

The CLI turns each into a `--flag` and a `COMMANDHALL_<NAME>` environment variable;
library code only ever sees a `Settings` object (datasette keeps its SETTINGS the
same way, and a test checks the README documents each one).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from streams.names import DEFAULT_GROUP, DEFAULT_STREAM

ENV_PREFIX = "COMMANDHALL_"


@dataclass(frozen=True)
class Setting:
    """One setting with its default and help text."""

    name: str
    default: Any
    help: str

    @property
    def envvar(self) -> str:
        """The environment variable the CLI reads it from."""
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """The command-line flag."""
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("redis_url", "", "Redis URL; empty starts an embedded Redis in the data folder"),
    Setting("database_url", "", "SQLAlchemy URL; empty uses SQLite in the data folder"),
    Setting("stream_key", DEFAULT_STREAM, "Redis stream of case events"),
    Setting("consumer_group", DEFAULT_GROUP, "Consumer group of the ingest workers"),
    Setting("data_dir", "commandhall-data", "Folder for SQLite, the embedded Redis and secrets"),
    Setting("secret_key", "", "Session signing key; empty generates one in the data folder"),
    Setting("host", "127.0.0.1", "Address the web server listens on"),
    Setting("port", 8050, "Port the web server listens on"),
    Setting("city_dir", "", "Folder of the city's catalogue; empty uses the built-in Zhuhai"),
    Setting("tile_url", "", "Intranet XYZ tile URL for the map; empty draws district outlines"),
    Setting("walls_file", "", "YAML file of walls and their screens; empty uses the example"),
    Setting("language", "zh", "Language of labels on screens: zh or en"),
    Setting("batch_size", 500, "Stream entries the ingest worker applies per transaction"),
    Setting("office_hours", "08:30-12:00,14:30-18:00", "Office hours that working time counts"),
    Setting("warn_ratio", 0.8, "Share of the limit used when a case's light turns yellow"),
    Setting("lease_s", 5.0, "Seconds the active ingest worker's lease lasts; a standby takes over"),
    Setting("max_deliveries", 10, "Deliveries after which an entry is set aside as poison"),
    Setting("max_ahead_hours", 24.0, "Hours an event's time may lie ahead of the server clock"),
    Setting("earliest_year", 2000, "Events dated before this year are refused"),
    Setting("stall_s", 30.0, "Seconds without ingest progress before /healthz says stalled"),
    Setting("max_lag", 10000, "Entries waiting for ingest beyond which /healthz says behind"),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings, passed as a plain object into every part of the server."""

    redis_url: str = ""
    database_url: str = ""
    stream_key: str = DEFAULT_STREAM
    consumer_group: str = DEFAULT_GROUP
    data_dir: str = "commandhall-data"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8050
    city_dir: str = ""
    tile_url: str = ""
    walls_file: str = ""
    language: str = "zh"
    batch_size: int = 500
    office_hours: str = "08:30-12:00,14:30-18:00"
    warn_ratio: float = 0.8
    lease_s: float = 5.0
    max_deliveries: int = 10
    max_ahead_hours: float = 24.0
    earliest_year: int = 2000
    stall_s: float = 30.0
    max_lag: int = 10000

    @property
    def data_path(self) -> Path:
        """The data folder as a path."""
        return Path(self.data_dir)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_path / 'commandhall.db').resolve()}"

    @property
    def office_periods(self) -> list[tuple[str, str]]:
        """Office hours as (start, end) pairs, e.g. [("08:30", "12:00"), …]."""
        pairs = [part.strip().split("-") for part in self.office_hours.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(
                f"office hours must read like 08:30-12:00,14:30-18:00: {self.office_hours!r}"
            )
        return [(start.strip(), end.strip()) for start, end in pairs]

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)


def setting(name: str) -> Setting:
    """The declaration of one setting."""
    return _BY_NAME[name]


def _check_declared() -> None:
    # Settings and SETTINGS must name the same things in the same order.
    names = [f.name for f in fields(Settings)]
    declared = [s.name for s in SETTINGS]
    if names != declared:
        raise RuntimeError(f"Settings {names} and SETTINGS {declared} differ")
    for decl in SETTINGS:
        default = getattr(Settings, decl.name)
        if default != decl.default:
            raise RuntimeError(f"setting {decl.name}: default {default!r} != {decl.default!r}")


_check_declared()
