"""Emergency fan-out: time from publishing emergency.raised to the banner on N screens.

    .venv/bin/python bench/emergency_fanout.py [--screens 50] [--rounds 3]

Starts a hall (embedded Redis, ingest and web as child processes), opens N wall
screens in headless Chromium, publishes the event and reads, on each screen, when the
banner was drawn (the screens and this process share the machine's clock).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams.producer import new_event  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.hall import Hall, temporary_hall  # noqa: E402


def open_screens(browser, hall: Hall, count: int) -> list[Page]:
    """N wall screens, each with a token of its own, connected."""
    pages = []
    for n in range(count):
        token = hall.accounts.create_token(f"bench/{n}")
        page = browser.new_context(
            bypass_csp=True, viewport={"width": 960, "height": 540}
        ).new_page()
        page.goto(f"{hall.base_url}/wall/?token={token}")
        pages.append(page)
    for page in pages:
        page.wait_for_function("window.commandhall && commandhall.live.connected", timeout=60_000)
    return pages


def one_round(hall: Hall, pages: list[Page], level: str) -> list[float]:
    """Raise, wait for every banner, clear; the delays in ms."""
    published = time.time() * 1000
    hall.producer.publish(new_event("emergency.raised", hazard="typhoon", level=level))
    delays = []
    for page in pages:
        page.wait_for_selector(f'[data-emergency-level="{level}"]', timeout=10_000)
        delays.append(page.evaluate("commandhall.banner.shownAt") - published)
    hall.producer.publish(new_event("emergency.cleared"))
    for page in pages:
        page.wait_for_selector("[data-emergency-level]", state="detached", timeout=10_000)
    return delays


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with temporary_hall("bench-fanout-") as hall:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            pages = open_screens(browser, hall, args.screens)
            for n, level in zip(range(args.rounds), ["orange", "red", "yellow"] * 9, strict=False):
                delays = sorted(one_round(hall, pages, level))
                print(
                    f"round {n + 1}: {len(delays)} screens  min {delays[0]:.0f} ms  "
                    f"median {statistics.median(delays):.0f} ms  "
                    f"p95 {delays[int(0.95 * (len(delays) - 1))]:.0f} ms  max {delays[-1]:.0f} ms"
                )
            browser.close()


if __name__ == "__main__":
    main()
