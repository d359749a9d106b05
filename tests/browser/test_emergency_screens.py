"""Emergency mode as the hall sees it: every screen switches, the desk can switch it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from dashboard.store.accounts import Role
from layouts.i18n import LABELS
from streams.producer import new_event
from tests.browser.conftest import ARTIFACTS
from tests.hall import Hall

BANNER = "[data-emergency-level]"


@pytest.fixture
def em_hall(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A hall of this test's own: the emergency mode is city-wide."""
    running = Hall(tmp_path / "hall", redis_url)
    running.add_user("leader", Role.LEADER)
    running.add_user("duty", Role.COMMANDER)
    yield running
    running.stop()


def signed_in(browser: Browser, hall: Hall, user: str, password: str, path: str) -> Page:
    """A page of a user signed in, opened at `path`."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{hall.base_url}/login?next={path}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.wait_for_function("window.commandhall && window.commandhall.live.connected")
    return page


def wall_screen(browser: Browser, hall: Hall, screen: str) -> Page:
    """A wall screen opened with its own token."""
    token = hall.accounts.create_token(screen)
    page = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{hall.base_url}/wall/?token={token}")
    page.wait_for_function("window.commandhall && window.commandhall.live.connected")
    return page


def test_every_screen_shows_the_banner(browser: Browser, em_hall: Hall) -> None:
    """Three wall screens and a tablet show the banner; walls switch arrangement.

    The delays are printed; the 500 ms goal is measured by bench/emergency_fanout.py.
    """
    walls = [wall_screen(browser, em_hall, f"hall/{name}") for name in ("left", "centre", "right")]
    tablet = signed_in(browser, em_hall, "leader", "leader-password", "/tablet/")
    screens = [*walls, tablet]
    published = time.time() * 1000
    em_hall.producer.publish(
        new_event("emergency.raised", hazard="typhoon", level="orange", by="weather-feed")
    )
    delays = []
    for page in screens:
        page.wait_for_selector(f'{BANNER}[data-emergency-level="orange"]', timeout=15_000)
        delays.append(page.evaluate("commandhall.banner.shownAt") - published)
    shown = ", ".join(f"{d:.0f}" for d in delays)
    print(f"\nbanner shown after {shown} ms; slowest {max(delays):.0f} ms")
    assert walls[2].get_attribute(".wall", "data-view") == "emergency"
    assert walls[0].get_attribute(".wall", "data-view") == "map"  # its emergency views
    ARTIFACTS.mkdir(exist_ok=True)
    walls[2].wait_for_selector('[data-kpi="em_open"]')
    walls[2].screenshot(path=str(ARTIFACTS / "wall-emergency-1920x1080.png"))
    tablet.screenshot(path=str(ARTIFACTS / "tablet-emergency.png"))
    em_hall.producer.publish(new_event("emergency.cleared", by="weather-feed"))
    for page in screens:
        page.wait_for_selector(BANNER, state="detached", timeout=15_000)
    walls[2].wait_for_function("document.querySelector('.wall').dataset.view === 'boards'")


def test_commander_raises_it_from_the_desk(browser: Browser, em_hall: Hall) -> None:
    """The desk's guarded switch needs a reason and a confirmation, then every screen shows it."""
    desk = signed_in(browser, em_hall, "duty", "duty-password", "/desk/")
    wall = wall_screen(browser, em_hall, "hall/right")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("#raise-button")
    # Refused in the desk's language (Chinese by default), not in the API's English.
    desk.wait_for_selector(f"#switch-result:has-text('{LABELS['zh']['err_reason']}')")
    desk.fill("#switch-reason", "台风“海燕”登陆预警")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("#raise-button")
    wall.wait_for_selector(f"{BANNER}[data-emergency-level='yellow']", timeout=15_000)
    assert "海燕" in wall.inner_text("#emergency-banner")
    desk.wait_for_selector(f"{BANNER}[data-emergency-level='yellow']", timeout=15_000)
    desk.screenshot(path=str(ARTIFACTS / "desk-emergency.png"))


def test_non_commander_cannot_switch(browser: Browser, em_hall: Hall) -> None:
    """A leader's request to switch is refused by the server, not just hidden."""
    tablet = signed_in(browser, em_hall, "leader", "leader-password", "/tablet/")
    response = tablet.request.post(
        f"{em_hall.base_url}/api/emergency",
        data={"action": "raise", "hazard": "typhoon", "level": "red", "reason": "test"},
        headers={"Origin": em_hall.base_url},  # as the page's own fetch would send it
    )
    assert response.status == 403 and "commander" in response.json()["error"]
    anonymous = browser.new_context(bypass_csp=True).request.post(
        f"{em_hall.base_url}/api/emergency",
        data={"action": "raise"},
        headers={"Origin": em_hall.base_url},
    )
    assert anonymous.status == 401


def test_restart_keeps_the_mode(browser: Browser, em_hall: Hall) -> None:
    """After every process restarts, screens come back in emergency mode."""
    em_hall.producer.publish(new_event("emergency.raised", hazard="typhoon", level="red"))
    wall = wall_screen(browser, em_hall, "hall/right")
    wall.wait_for_selector(f"{BANNER}[data-emergency-level='red']", timeout=15_000)
    em_hall.stop()
    em_hall.start_all()
    fresh = wall_screen(browser, em_hall, "hall/right")
    fresh.wait_for_selector(f"{BANNER}[data-emergency-level='red']", timeout=15_000)
    assert fresh.get_attribute(".wall", "data-view") == "emergency"
