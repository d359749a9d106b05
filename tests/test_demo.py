"""`commandhall demo` as a new user runs it: it comes up, shows live data, and
Ctrl-C leaves no process behind."""

from __future__ import annotations

import http.cookiejar
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import simple_websocket

from dashboard.runtime import free_port


def read_banner(process: subprocess.Popen[str], timeout: float = 90) -> dict[str, str]:
    """The demo's banner lines, by label, once it is printed (what came by `timeout`).

    Read by a thread: a demo that runs on without ever printing must not block the test.
    """
    lines: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    output: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [output.put(line) for line in stdout], daemon=True).start()
    while "stop" not in lines:
        try:
            line = output.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        label, _, value = line.strip().partition(":")
        if value:
            lines[label.strip()] = value.strip()
    return lines


def health(port: int) -> dict[str, object]:
    """The demo's /healthz body (503 while ingest catches up is an answer too)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            body: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as refused:
        body = json.loads(refused.read())
    return body


def demo_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The environment of a demo in its own data folder."""
    env = {**os.environ, "COMMANDHALL_DATA_DIR": str(tmp_path / "data")}
    env["COMMANDHALL_PORT"] = str(port)
    env["COMMANDHALL_METRICS_ALLOW"] = "127.0.0.1"  # /healthz's figures for the test
    env.pop("COMMANDHALL_REDIS_URL", None)
    return env


def start_demo(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[str]:
    """`commandhall demo` in a session of its own (as a terminal runs it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo", "--rate", "50", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        start_new_session=True,
    )


def wait_applied(port: int) -> None:
    """Until the demo's ingest has applied something."""
    for _ in range(120):
        if health(port).get("last_applied_age_s") is not None:
            return
        time.sleep(0.5)
    raise AssertionError("the demo applied nothing")


def open_screen(port: int, token: str) -> simple_websocket.Client:
    """A wall screen's live connection (a Socket.IO websocket), as a browser opens it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"http://127.0.0.1:{port}/wall/?token={token}", timeout=30).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    screen = simple_websocket.Client.connect(url, headers={"Cookie": cookie})
    assert str(screen.receive(timeout=30)).startswith("0")  # engine.io "open"
    screen.send("40")  # Socket.IO connect to the default namespace
    accepted = str(screen.receive(timeout=30))
    # Pings (answered) and pushes broadcast while the connection was being accepted may
    # come before the acknowledgement.
    while not accepted.startswith(("40", "44", "None")):
        if accepted == "2":
            screen.send("3")
        accepted = str(screen.receive(timeout=30))
    assert accepted.startswith("40"), accepted  # accepted
    return screen


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run another `commandhall` command beside the demo, as a user would."""
    command = [sys.executable, "-m", "dashboard.cli", *args]
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True)


def test_demo_runs_live_and_stops_cleanly(tmp_path: Path) -> None:
    """The demo serves a wall fed by its simulator; Ctrl-C stops every process at once.

    An open screen must not hold the shutdown: gunicorn would wait out its graceful
    timeout and SIGKILL the worker ("Perhaps out of memory?").
    """
    port = free_port()
    env, log = demo_env(tmp_path, port), tmp_path / "demo.log"
    process = start_demo(env, log)
    try:
        banner = read_banner(process)
        assert "/wall/?token=" in banner["wall"] and "redis://127.0.0.1:" in banner["redis"]
        assert "password" in banner["sign in"]
        family = psutil.Process(process.pid).children(recursive=True)
        assert len(family) >= 4  # redis-server, ingest, simulator, web (and its worker)
        wait_applied(port)
        assert health(port)["redis"] is True and health(port)["database"] is True
        screen = open_screen(port, banner["wall"].rpartition("token=")[2])
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = process.wait(30)
    assert not screen.connected  # the server closed it on the way out
    assert code == 0
    assert "SIGKILL" not in log.read_text() and "Traceback" not in log.read_text()
    time.sleep(0.5)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []


def test_commands_beside_a_running_demo_find_its_redis(tmp_path: Path) -> None:
    """deadletter list and publish, run with the demo's data folder only, reach its Redis."""
    port = free_port()
    env = demo_env(tmp_path, port)
    process = start_demo(env, tmp_path / "demo.log")
    try:
        read_banner(process)
        listed = cli(env, "deadletter", "list")
        assert listed.returncode == 0, listed.stderr
        event = '{"event_id": "ev-1", "type": "emergency.cleared", "at": "2026-11-22T09:30:00Z"}'
        published = cli(env, "publish", stdin=event)
        assert published.returncode == 0 and "published 1" in published.stdout
        refused = cli(env, "publish", stdin='{"event_id": "ev-2", "type": "case.nope"}')
        assert refused.returncode != 0 and "event 1 (ev-2)" in refused.stderr
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)


def case_ids(tmp_path: Path) -> set[str]:
    """The cases in the demo's SQLite database."""
    with sqlite3.connect(tmp_path / "data" / "commandhall.db") as db:
        return {row[0] for row in db.execute("select case_id from cases")}


def test_a_restart_keeps_the_city_and_the_redis_port(tmp_path: Path) -> None:
    """A plain restart keeps every case and comes back on the same Redis URL; --fresh forgets."""
    port = free_port()
    env = demo_env(tmp_path, port)
    first = start_demo(env, tmp_path / "first.log")
    try:
        redis_url = read_banner(first)["redis"].split()[0]
        wait_applied(port)
    finally:
        os.killpg(first.pid, signal.SIGINT)
        first.wait(30)
    before = case_ids(tmp_path)
    assert before
    second = start_demo(env, tmp_path / "second.log")
    try:
        assert read_banner(second)["redis"].split()[0] == redis_url
        assert before <= case_ids(tmp_path)
    finally:
        os.killpg(second.pid, signal.SIGINT)
        second.wait(30)
    fresh = start_demo(env, tmp_path / "fresh.log", "--fresh", "--busy")
    try:
        read_banner(fresh)
        assert not before & case_ids(tmp_path)
    finally:
        os.killpg(fresh.pid, signal.SIGINT)
        fresh.wait(30)


NEW_YORK = Path(__file__).resolve().parents[1] / "dashboard" / "data" / "new-york"
# A New York 311 export of two requests, in a few of NYC Open Data's columns.
NYC_EXPORT = "".join(
    ",".join(row) + "\n"
    for row in (
        ("Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type", "Status"),
        ("26984072", "12/25/2013 11:59:08 PM", "12/26/2013 01:15:00 AM", "NYPD", "Noise", "Closed"),
        ("26996604", "12/25/2013 11:58:40 PM", "", "DOB", "Elevator", "Open"),
    )
)


def test_a_finished_replay_does_not_hide_the_banner(tmp_path: Path) -> None:
    """With --replay FILE --speed 0 (over at once) the demo still prints where to look."""
    export = tmp_path / "nyc.csv"
    export.write_text(NYC_EXPORT)
    port = free_port()
    env = demo_env(tmp_path, port)
    args = ("--city-dir", str(NEW_YORK), "--replay", str(export), "--speed", "0")
    process = start_demo(env, tmp_path / "demo.log", *args)
    try:
        banner = read_banner(process)
        assert "/wall/?token=" in banner.get("wall", "")
        assert "redis://127.0.0.1:" in banner.get("redis", "")
        assert process.poll() is None  # the hall goes on showing what the replay left
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)


def city_lacking(tmp_path: Path, *files: str) -> Path:
    """A copy of the New York folder without the named files."""
    city = Path(shutil.copytree(NEW_YORK, tmp_path / "city"))
    for name in files:
        (city / name).unlink()
    return city


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused command printed; fails on more, or on a traceback."""
    printed = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(printed) == 1, printed
    return printed[0]


@pytest.mark.parametrize(
    "missing", ["city.yaml", "units.yaml", "categories.yaml", "areas.yaml", "districts.geojson"]
)
def test_a_city_folder_lacking_a_file_is_refused_in_one_line(tmp_path: Path, missing: str) -> None:
    """The demo on a city folder without one of its files exits non-zero, naming it once."""
    env = demo_env(tmp_path, free_port())
    result = cli(env, "demo", "--city-dir", str(city_lacking(tmp_path, missing)))
    assert missing in one_line_refusal(result)


def test_a_replay_without_the_citys_mapping_is_refused_in_one_line(tmp_path: Path) -> None:
    """--replay on a city folder without replay.yaml exits non-zero with one line."""
    export = tmp_path / "nyc.csv"
    export.write_text(NYC_EXPORT)
    city = city_lacking(tmp_path, "replay.yaml")
    result = cli(
        demo_env(tmp_path, free_port()), "demo", "--city-dir", str(city), "--replay", str(export)
    )
    assert "replay.yaml" in one_line_refusal(result)


def test_a_replay_of_a_file_that_is_no_export_is_refused_in_one_line(tmp_path: Path) -> None:
    """--replay of a CSV whose header no 311 family has exits non-zero with one line."""
    export = tmp_path / "notes.csv"
    export.write_text("when,what\ntoday,nothing\n")
    env = demo_env(tmp_path, free_port())
    result = cli(env, "demo", "--city-dir", str(NEW_YORK), "--replay", str(export))
    assert "notes.csv" in one_line_refusal(result)


def test_a_city_without_categories_is_refused_in_one_line(tmp_path: Path) -> None:
    """The simulator has nothing to report in a city of no categories: one line, not a crash."""
    city = city_lacking(tmp_path)
    (city / "categories.yaml").write_text("[]\n")
    result = cli(demo_env(tmp_path, free_port()), "demo", "--city-dir", str(city))
    assert "categories" in one_line_refusal(result)
