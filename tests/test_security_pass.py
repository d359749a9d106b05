"""Issue 20's second security pass, each finding as a regression test."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import runtime
from dashboard.app import create_app
from dashboard.process import demo
from dashboard.settings import Settings


@pytest.fixture
def umask() -> Iterator[None]:
    """The usual umask (022), whatever the test runner was started with."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    """The permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_hall_keeps_its_data_folder_and_secrets_private(
    tmp_path: Path, redis_url: str, umask: None
) -> None:
    """A hall made from nothing: the data folder 0700, database and secrets 0600."""
    settings = Settings(data_dir=str(tmp_path / "hall"), redis_url=redis_url)
    folder = runtime.data_folder(settings)
    demo.prepare(settings, folder)
    create_app(settings).engine.dispose()
    assert mode(folder) == 0o700
    secrets = ("secret.key", "commander.password", "wall.token", "commandhall.db")
    found = {
        f.name: mode(f) for f in [*folder.glob("commandhall.db*"), *map(folder.joinpath, secrets)]
    }
    assert found == dict.fromkeys(found, 0o600) and len(found) >= 4


def test_a_kept_data_folder_made_looser_is_tightened(
    tmp_path: Path, redis_url: str, umask: None
) -> None:
    """A data folder from before (0755, database 0644) is made private at start."""
    folder = tmp_path / "hall"
    folder.mkdir(mode=0o755)
    (folder / "commandhall.db").touch(mode=0o644)
    create_app(Settings(data_dir=str(folder), redis_url=redis_url)).engine.dispose()
    assert (mode(folder), mode(folder / "commandhall.db")) == (0o700, 0o600)
