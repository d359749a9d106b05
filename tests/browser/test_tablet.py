"""The leader's tablet in a finger's reach: at 768 and 1366 px wide, in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from dashboard.store.accounts import AuthError, Role
from tests.browser.conftest import ARTIFACTS
from tests.hall import Hall

SIZES = [(768, 1024), (1366, 1024)]


@pytest.fixture
def leader_page(browser: Browser, hall: Hall, request) -> Iterator[Page]:
    """The tablet at a size, signed in as a leader."""
    width, height = request.param
    try:
        hall.add_user("touch-leader", Role.LEADER)
    except AuthError:
        pass  # made by the other size's run
    context = browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{hall.base_url}/login?next=/tablet/")
    page.fill("input[name=username]", "touch-leader")
    page.fill("input[name=password]", "touch-leader-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".tablet .kpi-box", timeout=30_000)
    yield page
    context.close()


@pytest.mark.parametrize("leader_page", SIZES, indirect=True, ids=["768", "1366"])
def test_the_way_out_is_finger_sized_and_the_title_one_line(leader_page: Page) -> None:
    """The sign-out link is at least 44x44 px; the title stays on one line."""
    link = leader_page.locator(".view-header a[href='/logout']").bounding_box()
    assert link is not None and link["width"] >= 44 and link["height"] >= 44
    lines = leader_page.evaluate(
        """() => {
            const range = document.createRange();
            range.selectNodeContents(document.querySelector('.view-header h1'));
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1
    width = leader_page.viewport_size["width"]  # type: ignore[index]
    ARTIFACTS.mkdir(exist_ok=True)
    leader_page.screenshot(path=str(ARTIFACTS / f"tablet-{width}.png"))
