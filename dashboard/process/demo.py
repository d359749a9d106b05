"""`commandhall demo`: the whole product on one machine, from nothing.

Starts an embedded Redis (unless one is configured), SQLite in the data folder, and
three child processes — ingest, simulator, web — then prints where to look. Ctrl-C
(or SIGTERM) stops the children, then Redis; children also die with the demo if it
is killed, through PR_SET_PDEATHSIG, so nothing is left behind.
"""

from __future__ import annotations

import ctypes
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from dashboard import runtime
from dashboard.domain.access import Role
from dashboard.domain.city import city_dir, city_rules
from dashboard.domain.configfile import ConfigError
from dashboard.feeds.records import detect_file
from dashboard.feeds.stories import MAPPING_FILE, load_mapping
from dashboard.settings import SETTINGS, Settings
from dashboard.sim.simulator import require_playable
from dashboard.store.accounts import Accounts, AuthError
from dashboard.store.db import init_db, make_engine
from dashboard.store.models import Case, EventRow
from streams.names import dead_letter_key

log = logging.getLogger(__name__)

COMMANDER = "commander"
PR_SET_PDEATHSIG = 1


def run_demo(
    settings: Settings,
    rate: float,
    fresh: bool = False,
    busy: bool = False,
    replay: tuple[str, float] | None = None,
) -> int:
    """Run the demo until interrupted; the exit code.

    The city is kept between runs (its open cases are played on to their end); with
    `fresh` it starts over with a simulated day of history. With `replay` (a 311
    export and a speed) a real city's past plays instead of the simulator, shifted
    to start now.
    """
    check_city(settings, replay[0] if replay else None)
    folder = runtime.data_folder(settings)
    embedded = None
    if not settings.redis_url:
        embedded = runtime.EmbeddedRedis(runtime.embedded_folder(settings))
        settings = settings.with_(redis_url=embedded.url)
    children: list[subprocess.Popen[bytes]] = []
    try:
        password, token = prepare(settings, folder)
        if fresh:
            reset_city(settings)
        feed = spawn(settings, *(replayer(*replay) if replay else simulator(settings, rate, busy)))
        children = [spawn(settings, "ingest"), feed, spawn(settings, "serve")]
        # A replay ends when its export does; the hall goes on showing what it left.
        may_finish = {feed} if replay else set()
        if wait_healthy(settings, children, may_finish):
            print_banner(settings, password, token)
        return supervise(children, may_finish)
    finally:
        stop_all(children)
        if embedded is not None:
            embedded.stop()


def check_city(settings: Settings, export: str | None) -> None:
    """Refuse, in one line, a city folder lacking what the demo's children will read.

    Checked before anything starts: a child failing on it would say so only amid
    the others' logs, once Redis and the database were set up (issue 20).
    """
    folder = city_dir(settings)
    try:
        catalogue = city_rules(settings).catalogue
        if export is None:
            require_playable(catalogue)
        else:
            check_replay(folder, Path(export))
    except ConfigError as error:
        where = "" if error.file == str(folder) else f"city folder {folder}: "
        raise runtime.StartupError(f"{where}{error}") from None


def check_replay(folder: Path, export: Path) -> None:
    """The city's replay mapping loads and the export is one the replay reads."""
    mapping = folder / MAPPING_FILE
    if not mapping.exists():
        raise ConfigError(MAPPING_FILE, None, "missing; --replay needs the city's mapping")
    load_mapping(mapping)
    try:
        detect_file(export)
    except (OSError, ValueError) as error:  # a header no family has, or not text at all
        raise runtime.StartupError(f"--replay {export}: {error}") from None


def prepare(settings: Settings, folder: Path) -> tuple[str, str]:
    """Database, a commander account and a wall token; their secrets."""
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    accounts = Accounts(sessionmaker(engine, expire_on_commit=False))
    password = _kept_secret(folder / "commander.password", lambda: secrets.token_urlsafe(9))
    try:
        accounts.create_user(COMMANDER, password, Role.COMMANDER)
    except AuthError:
        accounts.set_password(COMMANDER, password)
    token_file = folder / "wall.token"
    if not token_file.exists() or accounts.check_token(token_file.read_text().strip()) is None:
        runtime.write_private(token_file, accounts.create_token("demo-wall"))
    engine.dispose()
    return password, token_file.read_text().strip()


def reset_city(settings: Settings) -> None:
    """Forget the previous run's cases and stream; accounts and tokens stay.

    The simulator cannot pick up the stories of a previous run's open cases, which
    would otherwise sit on the wall going red for ever.
    """
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(delete(Case))
        connection.execute(delete(EventRow))
    engine.dispose()
    client = runtime.connect(settings.redis_url)
    client.delete(settings.stream_key, dead_letter_key(settings.stream_key))


def simulator(settings: Settings, rate: float, busy: bool) -> list[str]:
    """The simulator's command: a kept city continues, a new one gets a day of history."""
    kept = has_cases(settings)
    command = ["simulate", "--rate", str(rate), "--backfill-hours", "0" if kept else "24"]
    return command + (["--adopt-open"] if kept else []) + (["--busy"] if busy else [])


def replayer(path: str, speed: float) -> list[str]:
    """The replay's command: the export's own times from now on, at `speed`."""
    return ["replay", path, "--speed", str(speed), "--from-now"]


def has_cases(settings: Settings) -> bool:
    """Whether an earlier run left a city in the database."""
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        found = connection.execute(select(Case.case_id).limit(1)).first() is not None
    engine.dispose()
    return found


def _kept_secret(path: Path, make: object) -> str:
    if not path.exists():
        runtime.write_private(path, make())  # type: ignore[operator]
    return path.read_text().strip()


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    """A `commandhall` child process with the demo's settings in its environment."""
    env = dict(os.environ)
    for setting in SETTINGS:
        env[setting.envvar] = str(getattr(settings, setting.name))
    command = [sys.executable, "-m", "dashboard.cli", *args]
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, env=env, preexec_fn=preexec)


def wait_healthy(
    settings: Settings,
    children: list[subprocess.Popen[bytes]],
    may_finish: Collection[subprocess.Popen[bytes]] = (),
    timeout: float = 60,
) -> bool:
    """Wait until the web server answers /healthz (or a child fails).

    Any answer will do: /healthz says 503 while ingest is behind, as it is during the
    first day's backfill, and the hall is worth opening meanwhile. A child of
    `may_finish` that exited 0 has done its work (a replay at speed 0 is over at
    once), so the hall is still worth its banner.
    """
    url = f"http://{settings.host}:{settings.port}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(_failed(child, may_finish) for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # the server answered, unhappy about ingest for now
        except OSError:
            time.sleep(0.3)
    return False


def print_banner(settings: Settings, password: str, token: str) -> None:
    """Tell the user where everything is."""
    base = f"http://{settings.host}:{settings.port}"
    print(
        "\n"
        "command hall demo is running\n"
        f"  wall:       {base}/wall/?token={token}\n"
        f"  sign in:    {base}/login   user {COMMANDER}, password {password}\n"
        f"  health:     {base}/healthz\n"
        f"  redis:      {settings.redis_url}   stream {settings.stream_key}\n"
        "  publish:    .venv/bin/commandhall publish < events.jsonl   (one JSON event a line)\n"
        "  stop:       Ctrl-C\n",
        flush=True,
    )


def supervise(
    children: list[subprocess.Popen[bytes]], may_finish: set[subprocess.Popen[bytes]]
) -> int:
    """Wait until a signal arrives or a child fails; the exit code."""
    stopping = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    while not stopping["signal"]:
        for child in children:
            if _failed(child, may_finish):
                log.error("Demo: %s exited with %s; stopping", child.args, child.returncode)
                return 1
        time.sleep(0.2)
    return 0


def _failed(
    child: subprocess.Popen[bytes], may_finish: Collection[subprocess.Popen[bytes]]
) -> bool:
    """Whether a child has exited, other than by finishing (0) when it may."""
    code = child.poll()
    return code is not None and not (code == 0 and child in may_finish)


def stop_all(children: list[subprocess.Popen[bytes]], grace: float = 10) -> None:
    """Ask each child to stop, then insist."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
