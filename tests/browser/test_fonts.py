"""Every view draws its Chinese text in the font our server ships, not the PC's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from dashboard.store.accounts import Role
from tests.browser.test_wall import open_wall
from tests.hall import Hall

FAMILY = "Noto Sans SC"


def glyph_fonts(page: Page, selector: str) -> dict[str, dict]:
    """The fonts Chromium actually drew a node's text with (DevTools' Rendered Fonts)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"]: font for font in fonts}


def assert_drawn_in_our_font(page: Page, base_url: str, requests: list[str], selector: str):
    """The node's text is drawn by our web font alone, fetched from our server."""
    page.wait_for_function(f"document.fonts.check('16px \"{FAMILY}\"', '数字')")
    page.wait_for_function(
        f"[...document.fonts].some(f => f.family.includes('{FAMILY}') && f.status === 'loaded')"
    )
    # The woff2 slices are of the variable font, whose own name is "Noto Sans SC Thin";
    # a system font would be "Noto Sans CJK SC" and not custom.
    fonts = glyph_fonts(page, selector)
    assert fonts and all(name.startswith(FAMILY) for name in fonts), fonts
    assert all(font["isCustomFont"] for font in fonts.values()), fonts
    woff2 = [url for url in requests if url.endswith(".woff2")]
    assert woff2 and all(url.startswith(f"{base_url}/") for url in woff2)
    assert all("/assets/fonts/" in url for url in woff2)
    # Only the slices the page's text uses, not the whole font.
    print(f"\n{len(set(woff2))} font slices fetched")
    assert len(set(woff2)) < 30
    outside = [url for url in requests if not url.startswith((f"{base_url}/", "data:", "blob:"))]
    assert outside == []


def test_wall_draws_its_chinese_in_the_served_font(page: Page, hall: Hall) -> None:
    """The wall's title is drawn in Noto Sans SC loaded from our server's assets."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_wall(page, hall)
    assert_drawn_in_our_font(page, hall.base_url, requests, ".wall-title")


@pytest.fixture(scope="module")
def people_hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A hall with a commander and a leader."""
    running = Hall(Path(tmp_path_factory.mktemp("fonts")) / "hall", redis_url)
    running.add_user("duty", Role.COMMANDER)
    running.add_user("leader", Role.LEADER)
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("user", "path"), [("duty", "/desk/"), ("leader", "/tablet/")], ids=["desk", "tablet"]
)
def test_desk_and_tablet_draw_their_chinese_in_the_served_font(
    browser: Browser, people_hall: Hall, user: str, path: str
) -> None:
    """The desk and the tablet use the same served font for their headings."""
    requests: list[str] = []
    browser_page = browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 800}
    ).new_page()
    browser_page.on("request", lambda request: requests.append(request.url))
    page = signed_in_on(browser_page, people_hall, user, path)
    assert_drawn_in_our_font(page, people_hall.base_url, requests, ".view-header h1")
    page.context.close()


def signed_in_on(page: Page, hall: Hall, user: str, path: str) -> Page:
    """Sign a user in on a given page and open `path`."""
    page.goto(f"{hall.base_url}/login?next={path}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"{user}-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.wait_for_selector(".view-header h1")
    return page
