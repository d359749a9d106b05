"""The commandhall command: thin, with one-line start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dashboard.cli import main


def invoke(*args: str) -> str:
    """Run a command in-process and return its output; it must succeed."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_tokens_create_list_revoke(tmp_path: Path) -> None:
    """A screen's token is created, listed as active, then revoked."""
    data = ["--data-dir", str(tmp_path)]
    url = invoke("tokens", "create", "screen-3", *data)
    assert "/wall/?token=" in url
    assert "screen-3" in invoke("tokens", "list", *data) and "active" in invoke(
        "tokens", "list", *data
    )
    assert "revoked 1 token(s)" in invoke("tokens", "revoke", "screen-3", *data)
    assert "revoked" in invoke("tokens", "list", *data).split("\t")[-1]


def test_deadletter_list_shows_the_reason(redis_url: str, producer, stream_key: str) -> None:
    """Dead letters are listed with their reason."""
    from streams.consumer import Consumer, Handled

    producer.publish_raw("{broken")
    consumer = Consumer(producer.redis, stream_key, "g", "c", lambda items: Handled())
    consumer.ensure_group()
    consumer.step()
    output = invoke("deadletter", "list", "--redis-url", redis_url, "--stream-key", stream_key)
    assert "not valid JSON" in output and "{broken" in output


def test_missing_redis_is_one_clear_line(tmp_path: Path) -> None:
    """Starting without any Redis says so in one line, not a traceback."""
    env = {**os.environ, "COMMANDHALL_DATA_DIR": str(tmp_path)}
    env.pop("COMMANDHALL_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "ingest"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("commandhall: no Redis")
    assert "Traceback" not in result.stderr


def test_broken_city_file_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    """A city catalogue with a mistake stops start-up with file, line and problem."""
    import shutil

    from dashboard.domain.catalogue import DEFAULT_DIR

    city = tmp_path / "city"
    shutil.copytree(DEFAULT_DIR, city)
    units = city / "units.yaml"
    units.write_text(units.read_text().replace("kind: department}", "kind: ministry}", 1))
    env = {**os.environ, "COMMANDHALL_DATA_DIR": str(tmp_path), "COMMANDHALL_CITY_DIR": str(city)}
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "ingest", "--redis-url", "redis://127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("commandhall: units.yaml line ")
    assert "ministry" in result.stderr


def test_bad_office_hours_are_one_line(tmp_path: Path) -> None:
    """Office hours that cannot be read stop start-up with a clear line."""
    env = {**os.environ, "COMMANDHALL_DATA_DIR": str(tmp_path), "COMMANDHALL_OFFICE_HOURS": "9-5"}
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "ingest", "--redis-url", "redis://127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stderr.startswith("commandhall: --office-hours")


def test_users_create_without_a_password_generates_one_to_change(tmp_path: Path) -> None:
    """A generated password is printed once; the user must change it; all is audited."""
    data = ["--data-dir", str(tmp_path)]
    assert "password: " in invoke("users", "create", "ann", "--role", "commander", *data)
    assert "must change password" in invoke("users", "list", *data)
    invoke("users", "set-role", "ann", "leader", *data)
    invoke("users", "disable", "ann", *data)
    listed = invoke("users", "list", *data)
    assert "ann\tleader\tdisabled" in listed
    invoke("users", "enable", "ann", *data)
    assert "ann\tleader\tenabled" in invoke("users", "list", *data)


def test_users_create_refuses_a_short_password_in_one_line(tmp_path: Path) -> None:
    """A password under the minimum length is an error message, not a traceback."""
    result = CliRunner().invoke(
        main, ["users", "create", "bob", "--password", "short", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and "at least 10 characters" in result.output


def test_apikeys_create_list_revoke(tmp_path: Path) -> None:
    """A key is printed once, listed by name, and revoked."""
    data = ["--data-dir", str(tmp_path)]
    assert invoke("apikeys", "create", "feed", *data).startswith("chk_")
    assert "feed\tread" in invoke("apikeys", "list", *data)
    assert "revoked 1 key(s)" in invoke("apikeys", "revoke", "feed", *data)
