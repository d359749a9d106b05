"""Fault injection with real processes: ingest workers, redis-server, PostgreSQL.

Every test here is marked `faults` (`./dev test -m faults` runs them alone) and
prints its figures; they are repeated in the terminal summary.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.processes import FIGURES, own_redis  # noqa: F401  (a fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder injects faults."""
    for item in items:
        if "tests/faults" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures of every fault test, together at the end."""
    if FIGURES:
        terminalreporter.section("fault-injection figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
