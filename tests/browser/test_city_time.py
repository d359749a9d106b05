"""Times on screens are the city's, whatever time zone the display PC is set to."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, Playwright

from dashboard.domain.catalogue import load_catalogue
from dashboard.store.accounts import Role
from streams.producer import new_event
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.test_emergency_screens import signed_in
from tests.browser.test_wall import open_wall
from tests.hall import Hall

# Far from the city's UTC+8, on the other side of the date line's day.
DISPLAY_TZ = "America/Los_Angeles"


@pytest.fixture(scope="module")
def abroad(playwright: Playwright) -> Iterator[Browser]:
    """A Chromium whose process runs in another time zone than the city's."""
    chromium = playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, env={**os.environ, "TZ": DISPLAY_TZ}
    )
    yield chromium
    chromium.close()


@pytest.fixture
def abroad_page(abroad: Browser) -> Iterator[Page]:
    """A 1920x1080 page of that browser."""
    context = abroad.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    yield context.new_page()
    context.close()


def city_now() -> datetime:
    """Now in the city's time zone."""
    return datetime.now(ZoneInfo(load_catalogue().timezone))


def seconds_apart(shown: str, moment: datetime) -> float:
    """Seconds between an HH:MM:SS text and a moment's time of day, across midnight."""
    hours, minutes, seconds = (int(part) for part in shown.split(":"))
    shown_s = hours * 3600 + minutes * 60 + seconds
    moment_s = moment.hour * 3600 + moment.minute * 60 + moment.second
    apart = abs(shown_s - moment_s)
    return min(apart, 86400 - apart)


def test_display_pc_really_is_in_another_time_zone(abroad_page: Page) -> None:
    """The browser under test keeps its own time zone (else the tests below prove nothing)."""
    offset = abroad_page.evaluate("new Date().getTimezoneOffset()")
    assert offset in (420, 480)  # UTC-7 or UTC-8


def test_wall_clock_shows_the_city_time(abroad_page: Page, hall: Hall) -> None:
    """A display PC set to Los Angeles still shows the city's time on the wall clock."""
    open_wall(abroad_page, hall)
    abroad_page.wait_for_function(
        "/^\\d{2}:\\d{2}:\\d{2}$/.test(document.getElementById('wall-clock').textContent)"
    )
    shown = abroad_page.inner_text("#wall-clock")
    assert seconds_apart(shown, city_now()) <= 5, (shown, city_now())


@pytest.fixture
def desk_hall(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A hall of this test's own (an emergency is city-wide) with a commander."""
    running = Hall(tmp_path / "hall", redis_url)
    running.add_user("duty", Role.COMMANDER)
    yield running
    running.stop()


def test_desk_periods_table_shows_the_city_time(abroad: Browser, desk_hall: Hall) -> None:
    """An emergency period's start on the desk is written in the city's time, not UTC."""
    raised = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    desk_hall.producer.publish(
        new_event("emergency.raised", at=raised, hazard="typhoon", level="orange")
    )
    desk = signed_in(abroad, desk_hall, "duty", "duty-password", "/desk/")
    deadline = time.monotonic() + 30
    while not desk.request.get(f"{desk_hall.base_url}/api/emergencies").json()["periods"]:
        assert time.monotonic() < deadline, "the emergency period was never stored"
        desk.wait_for_timeout(200)
    desk.reload()
    desk.wait_for_selector(".periods td")
    local = raised.astimezone(ZoneInfo(load_catalogue().timezone)).strftime("%Y-%m-%d %H:%M")
    assert local in desk.inner_text(".periods")
