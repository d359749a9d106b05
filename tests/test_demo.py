"""`commandhall demo` as a new user runs it: it comes up, shows live data, and
Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from dashboard.runtime import free_port


def read_banner(process: subprocess.Popen[str], timeout: float = 90) -> dict[str, str]:
    """The demo's banner lines, by label, once it is printed."""
    lines: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline and "stop" not in lines:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        label, _, value = line.strip().partition(":")
        if value:
            lines[label.strip()] = value.strip()
    return lines


def health(port: int) -> dict[str, object]:
    """The demo's /healthz body."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_demo_runs_live_and_stops_cleanly(tmp_path: Path) -> None:
    """The demo serves a wall fed by its simulator; SIGINT stops every process."""
    port = free_port()
    env = {
        **os.environ,
        "COMMANDHALL_DATA_DIR": str(tmp_path / "data"),
        "COMMANDHALL_PORT": str(port),
    }
    env.pop("COMMANDHALL_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo", "--rate", "50"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        banner = read_banner(process)
        assert "/wall/?token=" in banner["wall"] and "redis://127.0.0.1:" in banner["redis"]
        assert "password" in banner["sign in"]
        family = psutil.Process(process.pid).children(recursive=True)
        assert len(family) >= 4  # redis-server, ingest, simulator, web (and its worker)
        for _ in range(60):
            if health(port).get("last_applied_age_s") is not None:
                break
            time.sleep(0.5)
        assert health(port)["ok"] is True and health(port)["last_applied_age_s"] is not None
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = process.wait(30)
    assert code == 0
    time.sleep(0.5)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
