"""The real Content-Security-Policy breaks no view, and stream text stays text.

These contexts do not bypass the CSP (the other browser tests do, for Playwright's
string predicates): a violation here is one a real screen would have. Waiting polls
behaviour through `evaluate`, which the page's CSP does not govern.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page

from dashboard.domain.access import Role
from tests.hall import Hall
from tests.stories import story

PAYLOAD = "<img src=x onerror=alert(1)><script>alert(2)</script>\"'><svg onload=alert(3)>"
WATCH = """
document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def until(page: Page, expression: str, timeout_s: float = 60) -> None:
    """Wait until a page expression holds (a behaviour, polled)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => !!({expression})"):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(250)


def strict_page(browser: Browser, seen: dict[str, list[str]]) -> Page:
    """A page under the server's real CSP that records violations and dialogs."""
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.add_init_script(WATCH)

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            seen["console"].append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    return page


@pytest.mark.parametrize("view", ["wall", "desk", "tablet"])
def test_views_run_under_the_real_csp_and_html_in_cases_is_inert(
    browser: Browser, hall: Hall, view: str
) -> None:
    """No CSP violation, no script error, no dialog from a case full of HTML."""
    hall.producer.publish_many(
        story(f"XSS-{view}", datetime.now(UTC), address=PAYLOAD, description=PAYLOAD)
    )
    seen: dict[str, list[str]] = {"console": [], "errors": [], "dialogs": []}
    page = strict_page(browser, seen)
    if view == "wall":
        page.goto(hall.wall_url)
        page.wait_for_selector(".kpi-strip .kpi", timeout=60_000)
        until(page, "window.commandhall && window.commandhall.live.connected")
        until(page, "document.querySelector('.board')")
    else:
        hall.add_user(f"csp-{view}", Role.LEADER)
        hall.sign_in(page, f"csp-{view}", f"/{view}/")
        page.wait_for_selector(".view-header h1", timeout=60_000)
        until(page, "window.commandhall && window.commandhall.live.connected")
    violations = page.evaluate("() => window.__csp || []")
    page.context.close()
    assert violations == [] and seen["console"] == [], (violations, seen["console"])
    assert seen["errors"] == [] and seen["dialogs"] == [], seen


def test_the_bulletins_print_button_works_under_the_real_csp(browser: Browser, hall: Hall) -> None:
    """The print button is wired by a script file: the CSP runs no inline handler."""
    seen: dict[str, list[str]] = {"console": [], "errors": [], "dialogs": []}
    page = strict_page(browser, seen)
    page.add_init_script("window.print = () => { window.__printed = true; };")
    hall.add_user("csp-bulletin", Role.LEADER)
    hall.sign_in(page, "csp-bulletin", "/tablet/")
    page.goto(f"{hall.base_url}/tablet/bulletin")
    page.wait_for_selector("body.bulletin [data-print]", timeout=60_000)
    until(page, "document.readyState === 'complete'")
    page.click("[data-print]")
    until(page, "window.__printed === true", timeout_s=30)
    violations = page.evaluate("() => window.__csp || []")
    page.context.close()
    assert violations == [] and seen["console"] == [], (violations, seen["console"])
