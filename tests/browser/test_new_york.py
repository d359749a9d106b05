"""A second city by configuration alone: a New York day on the wall, with its boroughs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine, func, select

from dashboard.domain.catalogue import load_catalogue
from dashboard.feeds.replay import replay
from dashboard.feeds.stories import load_mapping
from dashboard.store.models import Case
from streams.names import OPEN_STATES
from tests.hall import Hall
from tests.test_replay import DATA, NEW_YORK, NYC_2022

BOROUGHS = {"036005", "036047", "036061", "036081", "036085"}

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared/data/real311 is not beside")


@pytest.fixture
def new_york(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A hall running on the New York folder (files only, no code of its own)."""
    running = Hall(tmp_path / "ny", redis_url, city_dir=str(NEW_YORK))
    yield running
    running.stop()


def test_a_new_york_day_shows_on_the_wall_with_its_boroughs(page: Page, new_york: Hall) -> None:
    """Replayed as if today: the wall holds the day's open cases over the five boroughs."""
    mapping = load_mapping(NEW_YORK / "replay.yaml")
    summary = replay(NYC_2022, mapping, "America/New_York", new_york.producer, from_now=True)
    engine = create_engine(new_york.settings.resolved_database_url)
    page.goto(new_york.wall_url)
    page.wait_for_function("window.commandhall && window.commandhall.wall.loaded", timeout=60_000)

    def applied() -> int:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Case)) or 0)

    page.wait_for_function("n => window.commandhall.wall.cases.size > 0", arg=0, timeout=60_000)
    for _ in range(120):
        if applied() == summary.stories:
            break
        page.wait_for_timeout(500)
    assert applied() == summary.stories
    with engine.connect() as connection:
        open_ids = sorted(
            connection.scalars(select(Case.case_id).where(Case.state.in_(OPEN_STATES)))
        )
    page.wait_for_function(
        "ids => ids.every(id => window.commandhall.wall.cases.has(id))"
        " && window.commandhall.wall.cases.size === ids.length",
        arg=open_ids,
        timeout=60_000,
    )
    drawn = page.eval_on_selector_all(
        ".city-map [data-district]", "els => els.map(e => e.dataset.district)"
    )
    assert set(drawn) == BOROUGHS
    boards = page.eval_on_selector_all(
        ".board[data-department]", "els => els.map(e => e.dataset.department)"
    )
    assert boards and set(boards) <= set(load_catalogue(NEW_YORK).units)
