"""Headless Chromium (Debian's package) driven by Playwright, and a running hall."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.hall import Hall

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"

# Without the networking flags Chromium phones home at start; this network is closed.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright for the session (its sync API allows one at a time)."""
    with sync_playwright() as running:
        yield running


def chromium_path() -> str:
    """Debian's Chromium."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run ./dev test")
    return executable


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the session."""
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A web server and ingest worker shared by the browser tests."""
    running = Hall(tmp_path_factory.mktemp("hall"), redis_url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def module_hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A hall for one module: one whose many cases would crowd the shared hall's boards
    (a board shows a page of cases, so another module's new case could be off it)."""
    running = Hall(tmp_path_factory.mktemp("module-hall"), redis_url)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at 1920x1080.

    bypass_csp: Playwright's string predicates (wait_for_function) are evaluated in
    the page and would be refused by our CSP; test_csp.py checks the real policy.
    Every context of these tests is made with it.
    """
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    yield page
    context.close()
