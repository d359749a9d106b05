"""Every setting, declared once: name, default and help text.

The CLI turns each into a `--flag` and a `COMMANDHALL_<NAME>` environment variable;
library code only ever sees a `Settings` object (datasette keeps its SETTINGS the
same way, and a test checks the README documents each one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
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


def _setting(default: Any, help: str) -> Any:
    # The help text rides in the field's metadata: each setting is declared once.
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Resolved settings, passed as a plain object into every part of the server."""

    redis_url: str = _setting("", "Redis URL; empty starts an embedded Redis in the data folder")
    database_url: str = _setting("", "SQLAlchemy URL; empty uses SQLite in the data folder")
    db_upgrade: bool = _setting(
        False,
        "Run the database migrations when serve, ingest or an admin command starts; else "
        "an older schema stops them (the demo always upgrades)",
    )
    stream_key: str = _setting(DEFAULT_STREAM, "Redis stream of case events")
    consumer_group: str = _setting(DEFAULT_GROUP, "Consumer group of the ingest workers")
    data_dir: str = _setting(
        "commandhall-data", "Folder for SQLite, the embedded Redis and secrets"
    )
    secret_key: str = _setting("", "Session signing key; empty generates one in the data folder")
    host: str = _setting("127.0.0.1", "Address the web server listens on")
    port: int = _setting(8050, "Port the web server listens on")
    city_dir: str = _setting("", "Folder of the city's catalogue; empty uses the built-in Zhuhai")
    tile_url: str = _setting("", "Intranet XYZ tile URL for the map; empty draws district outlines")
    walls_file: str = _setting("", "YAML file of walls and their screens; empty uses the example")
    language: str = _setting("zh", "Language of labels on screens: zh or en")
    batch_size: int = _setting(500, "Stream entries the ingest worker applies per transaction")
    office_hours: str = _setting(
        "",
        "Office hours that working time counts; empty: the city's calendar.yaml, else "
        "08:30-12:00,14:30-18:00",
    )
    warn_ratio: float = _setting(0.8, "Share of the limit used when a case's light turns yellow")
    lease_s: float = _setting(
        5.0, "Seconds the active ingest worker's lease lasts; a standby takes over"
    )
    max_deliveries: int = _setting(10, "Deliveries after which an entry is set aside as poison")
    max_ahead_hours: float = _setting(
        24.0, "Hours an event's time may lie ahead of the server clock"
    )
    earliest_year: int = _setting(2000, "Events dated before this year are refused")
    stall_s: float = _setting(30.0, "Seconds without ingest progress before /healthz says stalled")
    max_lag: int = _setting(10000, "Entries waiting for ingest beyond which /healthz says behind")
    heartbeat_timeout_s: float = _setting(
        10.0, "Seconds without an ingest worker's heartbeat after which /healthz answers 503"
    )
    session_idle_minutes: float = _setting(
        30.0, "Minutes without activity after which a user's session ends (walls never idle)"
    )
    session_max_hours: float = _setting(12.0, "Hours after sign-in at which a session ends anyway")
    login_failures: int = _setting(
        5, "Failed sign-ins of one account within the lock-out time that lock it"
    )
    login_address_failures: int = _setting(
        20, "Failed sign-ins from one address within the lock-out time that lock it"
    )
    login_lockout_s: int = _setting(300, "Seconds a lock-out (and its count of failures) lasts")
    password_min_length: int = _setting(10, "Fewest characters a password may have")
    max_request_bytes: int = _setting(
        1_048_576, "Largest request body in bytes; a bigger one is refused (413) unread"
    )
    https: bool = _setting(
        False, "Served over HTTPS (e.g. behind a TLS proxy): Secure cookies and HSTS"
    )
    trusted_proxies: int = _setting(
        0, "Reverse proxies in front whose X-Forwarded-For/Proto/Host are believed"
    )
    frame_ancestors: str = _setting(
        "", "Origins allowed to frame the pages (space-separated); empty: none may"
    )
    open311_public: bool = _setting(
        False, "Serve /open311/v2/ (read-only) to anyone, for an open-data portal; else a key"
    )
    audit_retention_days: int = _setting(
        180, "Days audit rows stay in the database before `audit archive` moves them (>= 180)"
    )
    metrics_allow: str = _setting(
        "", "Addresses or networks (space-separated) that may read /metrics without a key"
    )
    ingest_metrics_port: int = _setting(
        0, "Port of the ingest worker's own Prometheus endpoint on --host; 0: none"
    )
    stream_retention_days: float = _setting(
        7.0, "Days applied stream entries are kept before the ingest worker trims them"
    )
    dead_letter_retention_days: float = _setting(
        30.0, "Days dead letters are kept before the ingest worker trims them"
    )

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
        """Office hours as (start, end) pairs, e.g. [("08:30", "12:00"), …]; [] if unset."""
        return office_periods(self.office_hours)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)


def office_periods(text: str) -> list[tuple[str, str]]:
    """Office hours written like 08:30-12:00,14:30-18:00 as (start, end) pairs."""
    pairs = [part.strip().split("-") for part in text.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"office hours must read like 08:30-12:00,14:30-18:00: {text!r}")
    return [(start.strip(), end.strip()) for start, end in pairs]


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"]) for f in fields(Settings)
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting(name: str) -> Setting:
    """The declaration of one setting."""
    return _BY_NAME[name]
