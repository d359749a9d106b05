"""A real wall in Chromium counts as a wall on /metrics and reports its push delays."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.test_wall import open_wall, publish_dispatched_case
from tests.hall import Hall
from tests.test_metrics import value

COUNT = 'commandhall_push_latency_seconds_count{view="wall"}'


def scrape(hall: Hall) -> str:
    """/metrics as the allowed address (loopback here) reads it."""
    with urllib.request.urlopen(f"{hall.base_url}/metrics", timeout=10) as response:
        return response.read().decode()


def test_a_wall_is_counted_and_reports_its_push_delays(
    page: Page, tmp_path: Path, redis_url: str
) -> None:
    """The open wall is one wall screen; the delays it measured land in the histogram."""
    hall = Hall(tmp_path / "hall", redis_url, metrics_allow="127.0.0.1")
    try:
        open_wall(page, hall)
        assert value(scrape(hall), 'commandhall_screens_connected{view="wall"}') == 1
        # The first report, a few seconds after load, sets the measuring clock.
        page.wait_for_function("window.commandhall.latency.offset !== null", timeout=20_000)
        publish_dispatched_case(hall)
        page.wait_for_function("window.commandhall.latency.delays.length > 0", timeout=20_000)
        delays = page.evaluate("window.commandhall.latency.delays.slice()")
        assert all(0 <= delay < 10_000 for delay in delays), delays
        page.evaluate("window.commandhall.latency.report()")
        deadline = time.monotonic() + 20
        while value(scrape(hall), COUNT) < len(delays):
            assert time.monotonic() < deadline, scrape(hall)
            time.sleep(0.3)
    finally:
        hall.stop()
