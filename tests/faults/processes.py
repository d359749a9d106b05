"""Real processes for fault injection: redis-server, ingest workers, a whole hall."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select

from dashboard.process import demo
from dashboard.runtime import free_port
from dashboard.settings import Settings
from dashboard.store.db import init_db, make_engine
from dashboard.store.models import EventRow
from streams.names import dead_letter_key

FIGURES: list[str] = []
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def report(name: str, **figures: Any) -> None:
    """Print a test's figures and keep them for the summary."""
    line = f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    print("\n" + line)
    FIGURES.append(line)


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll until the condition holds (returns a truthy value) or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class RedisServer:
    """A redis-server of the test's own, on a free port, that it may stop and start."""

    def __init__(self, folder: Path, persistent: bool) -> None:
        if not os.path.exists(REDIS_SERVER):
            pytest.skip(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
        self.folder, self.persistent, self.port = folder, persistent, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.start()

    def start(self) -> None:
        """Start (again) on the same port and folder; wait until it answers."""
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
            if self.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.folder), "--daemonize", "no", *persistence]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self.answers, 20, "redis-server to answer")

    def answers(self) -> bool:
        """Whether it answers PING."""
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it with a signal (SIGTERM: clean; SIGKILL: a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[bool], RedisServer]]:
    """Start redis-servers of this test's own (with or without persistence)."""
    servers: list[RedisServer] = []

    def start(persistent: bool) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}", persistent)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(signal.SIGKILL)


def fault_settings(folder: Path, redis_url: str, **changes: Any) -> Settings:
    """Settings for one fault test: its own stream, SQLite and a short lease; the
    test's own address reads /healthz's figures."""
    changes.setdefault("metrics_allow", "127.0.0.1")
    return Settings(
        data_dir=str(folder),
        redis_url=redis_url,
        stream_key=f"fault:{uuid.uuid4().hex[:12]}:cases",
        port=free_port(),
        lease_s=1.0,
        **changes,
    )


class Workers:
    """`commandhall ingest` child processes, killed and started at will."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self, name: str) -> None:
        """Start a worker under a name."""
        self.current = demo.spawn(self.settings, "--log-level", "WARNING", "ingest", "--name", name)
        self.started += 1

    def kill(self) -> None:
        """SIGKILL the running worker: no cleanup, no lease released, batch in hand."""
        if self.current is not None:
            self.current.kill()
            self.current.wait()
            self.current = None

    def alive(self) -> bool:
        """Whether the worker is still running."""
        return self.current is not None and self.current.poll() is None

    def stop(self) -> None:
        """Stop the running worker cleanly."""
        if self.current is not None:
            demo.stop_all([self.current])
            self.current = None


def database(settings: Settings) -> Engine:
    """The settings' database, with the schema."""
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    return engine


def applied_ids(engine: Engine) -> list[tuple[str | None, str]]:
    """(case_id, event_id) of every history row, in the order they were applied."""
    with engine.connect() as connection:
        rows = connection.execute(select(EventRow.case_id, EventRow.event_id).order_by(EventRow.id))
        return [(case_id, event_id) for case_id, event_id in rows]


def letters(client: redis.Redis, stream: str) -> list[dict[str, str]]:
    """Dead letters of a stream, decoded."""
    return [
        {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
        for _, fields in client.xrange(dead_letter_key(stream))
    ]


class Running:
    """`serve` and `ingest` of one hall as child processes, on the given settings."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.base_url = f"http://127.0.0.1:{settings.port}"
        self.password, self.token = demo.prepare(settings, folder)
        self.children = [demo.spawn(settings, "ingest"), demo.spawn(settings, "serve")]
        if not demo.wait_healthy(settings, self.children, timeout=90):
            self.stop()
            raise RuntimeError("the hall did not come up")

    @property
    def wall_url(self) -> str:
        """The wall's URL with the display token."""
        return f"{self.base_url}/wall/?token={self.token}"

    def health(self) -> tuple[int, dict[str, Any]]:
        """The status and body of /healthz (0 when the web server does not answer)."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            return 0, {}

    def stop(self) -> None:
        """Stop both processes."""
        demo.stop_all(self.children)


class Flow:
    """Cases published all the time from a thread, each case in one MULTI; retried
    while Redis is down. Some cases stop open (dispatched), others run to closure."""

    def __init__(self, redis_url: str, stream: str, seed: int, every: float = 0.1) -> None:
        from tests.faults.lifecycles import lifecycle

        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
        self.stream, self.every, self.lifecycle = stream, every, lifecycle
        self.rng = random.Random(seed)
        self.accepted: list[tuple[float, str, list[str]]] = []  # (when, case, event ids)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start publishing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and wait for the thread."""
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        from datetime import UTC, datetime, timedelta

        from streams.producer import _encode

        while not self._stop.is_set():
            case_id = f"R{uuid.uuid4().hex[:10]}"
            events = self.lifecycle(case_id, datetime.now(UTC) - timedelta(hours=5), self.rng)
            events = events[: self.rng.choice((3, 3, 4, len(events)))]
            while not self._stop.is_set():
                try:
                    pipe = self.client.pipeline(transaction=True)
                    for event in events:
                        pipe.xadd(self.stream, {"event": _encode(event)})
                    pipe.execute()
                    ids = [e["event_id"] for e in events]
                    self.accepted.append((time.monotonic(), case_id, ids))
                    break
                except (redis.ConnectionError, redis.TimeoutError):
                    self.failures += 1
                    self._stop.wait(0.2)
            self._stop.wait(self.every)


class Sampler:
    """/healthz asked every quarter second from a thread: (when, status, problems)."""

    def __init__(self, hall: Running) -> None:
        self.hall = hall
        self.samples: list[tuple[float, int, list[str], dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            asked = time.monotonic()
            code, body = self.hall.health()
            self.samples.append((asked, code, body.get("problems") or [], body))
            self._stop.wait(0.25)

    def lies(self, down: float, up: float) -> list[tuple[float, int]]:
        """Samples asked while Redis was down that still said 200."""
        return [(t, code) for t, code, _, _ in self.samples if down + 0.3 < t < up and code == 200]


def applied_cases(engine: Engine) -> dict[str, list[str]]:
    """The applied event ids of each case, in order."""
    cases: dict[str, list[str]] = {}
    for case_id, event_id in applied_ids(engine):
        cases.setdefault(case_id or "", []).append(event_id)
    return cases
