"""Walls of several screens: each shows its part, boards page, views rotate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.test_wall import publish_dispatched_case
from tests.hall import Hall

WALLS = """
- wall: test
  screens:
    - name: boards
      views: [boards]
      page_seconds: 5
    - name: rotating
      views: [{view: boards, seconds: 5}, {view: map, seconds: 5}]
"""
# More units than a 1280x720 boards screen holds (4 columns x 3 rows)
DEPARTMENTS = [
    "construction",
    "planning",
    "land",
    "environment",
    "transport",
    "highways",
    "sanitation",
    "enforcement",
    "gardens",
    "drainage",
    "water",
    "power",
    "gas",
    "telecom",
    "traffic_police",
    "fire",
    "mobile",
    "cable_tv",
]


@pytest.fixture(scope="module")
def screens_hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A hall with a walls file of test screens and cases on many boards."""
    folder = tmp_path_factory.mktemp("screens")
    walls = folder / "walls.yaml"
    walls.write_text(WALLS)
    running = Hall(folder / "hall", redis_url, walls_file=str(walls))
    for department in DEPARTMENTS:
        for _ in range(2):
            publish_dispatched_case(running, department)
    yield running
    running.stop()


def open_screen(page: Page, hall: Hall, screen: str) -> None:
    """Open the wall as a named screen (its token carries the name)."""
    token = hall.accounts.create_token(screen)
    page.goto(f"{hall.base_url}/wall/?token={token}")
    page.wait_for_selector(".board")


def test_boards_page_when_they_do_not_fit(page: Page, screens_hall: Hall) -> None:
    """With more boards than fit, pages turn by themselves and show different units."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_screen(page, screens_hall, "test/boards")
    page.wait_for_function(f"commandhall.wall.cases.size === {2 * len(DEPARTMENTS)}")
    pages = page.evaluate("commandhall.wall.pages")
    assert pages > 1
    assert page.get_attribute(".pager", "data-pages") == str(pages)
    first = page.eval_on_selector_all(".board", "bs => bs.map(b => b.dataset.department)")
    page.wait_for_function("commandhall.wall.page === 1", timeout=20_000)
    second = page.eval_on_selector_all(".board", "bs => bs.map(b => b.dataset.department)")
    assert second and not set(first) & set(second)
    assert page.evaluate("document.documentElement.scrollHeight") <= 720


def test_screen_shows_its_configured_view(page: Page, screens_hall: Hall) -> None:
    """A boards screen hides the map; the data-view attribute says which view is up."""
    open_screen(page, screens_hall, "test/boards")
    assert page.get_attribute(".wall", "data-view") == "boards"
    assert page.is_hidden(".map-panel") and page.is_visible(".boards")


def test_screen_rotates_through_its_views(page: Page, screens_hall: Hall) -> None:
    """A screen with two views switches to the second after its time."""
    open_screen(page, screens_hall, "test/rotating")
    assert page.get_attribute(".wall", "data-view") == "boards"
    page.wait_for_function("document.querySelector('.wall').dataset.view === 'map'", timeout=20_000)
    assert page.is_visible(".map-panel") and page.is_hidden(".boards")
