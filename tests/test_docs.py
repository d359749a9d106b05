"""The README documents what the code declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import SETTINGS
from streams.names import EventType

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_readme(setting) -> None:
    """Each setting's flag and environment variable appear in the README."""
    assert f"`{setting.flag}`" in README and f"`{setting.envvar}`" in README


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_every_event_type_is_in_the_readme(event_type: EventType) -> None:
    """Each event type of the contract is documented."""
    assert f"`{event_type.value}`" in README


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run calls the test command the README gives."""
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "./dev test" in README and "./dev test" in ci
