"""Make the screenshots in docs/: a simulated day on the wall at 1080p and 4K, and on
the leader's tablet in portrait and landscape.

    .venv/bin/python docs/screenshots.py

Starts a hall (embedded Redis, ingest, web), publishes a day of the simulated city,
and photographs the wall (and the emergency board) and the tablet in headless Chromium.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.domain.city import city_rules  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from dashboard.sim.simulator import CitySimulator, SimulatorConfig  # noqa: E402
from dashboard.store.accounts import Role  # noqa: E402
from streams.consumer import lag  # noqa: E402
from streams.producer import new_event  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.hall import Hall, temporary_hall  # noqa: E402


def fill(hall: Hall) -> None:
    """A day of the simulated city, applied."""
    rules = city_rules(Settings())
    city = CitySimulator(
        rules.catalogue, rules.calendar, SimulatorConfig(rate=1, seed=3, backfill_hours=24)
    )
    hall.producer.publish_many(city.backfill())
    # Wait until the group has delivered and acknowledged everything: the embedded
    # Redis (6.2) reports no XINFO `lag`, so `lag()` compares the last delivered id.
    settings = hall.settings
    while any(lag(hall.producer.redis, settings.stream_key, settings.consumer_group).values()):
        time.sleep(1)


def typhoon(hall: Hall) -> None:
    """Raise a typhoon and report emergency-class cases during it."""
    rules = city_rules(Settings())
    hall.producer.publish(
        new_event(
            "emergency.raised",
            at=datetime.now(UTC) - timedelta(hours=6),
            hazard="typhoon",
            level="orange",
            note="台风橙色预警，全市进入应急状态",
        )
    )
    time.sleep(1)
    classes = [c for c in rules.catalogue.categories.values() if c.emergency]
    rng = random.Random(5)
    west, south, east, north = 113.3, 22.1, 113.6, 22.4
    events = []
    for n in range(60):
        category, case_id = rng.choice(classes), f"TY{n:04d}"
        at = datetime.now(UTC) - timedelta(minutes=rng.uniform(5, 300))  # after the raise
        events += [
            new_event(
                "case.reported",
                case_id,
                at,
                source="inspector",
                kind=category.kind.value,
                category=category.code,
                lon=rng.uniform(west, east),
                lat=rng.uniform(south, north),
            ),
            new_event("case.filed", case_id, at + timedelta(minutes=2)),
            new_event(
                "case.dispatched",
                case_id,
                at + timedelta(minutes=4),
                department=category.department,
            ),
        ]
    hall.producer.publish_many(events)
    time.sleep(3)


def shoot(browser, hall: Hall, name: str, width: int, height: int) -> None:
    """One screenshot of the wall into docs/."""
    page = browser.new_page(bypass_csp=True, viewport={"width": width, "height": height})
    page.goto(hall.wall_url)
    page.wait_for_selector(".kpi-strip .kpi")
    page.wait_for_timeout(4000)
    page.screenshot(path=str(ROOT / "docs" / f"{name}-{width}x{height}.png"))
    page.close()


def shoot_tablet(browser, hall: Hall, width: int, height: int) -> None:
    """The leader's tablet at a size, signed in, into docs/ (the whole page)."""
    context = browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{hall.base_url}/login?next=/tablet/")
    page.fill("input[name=username]", "docs-leader")
    page.fill("input[name=password]", "docs-leader-pass")
    page.click("button[type=submit]")
    page.wait_for_selector(".tablet [data-ranking=unit] a[data-code]", timeout=60_000)
    page.wait_for_selector("#data-age[data-age-state=fresh]", timeout=60_000)
    page.screenshot(path=str(ROOT / "docs" / f"tablet-{width}x{height}.png"))
    context.close()


def main() -> None:
    """Fill a hall and photograph it."""
    with temporary_hall("docs-") as hall:
        fill(hall)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            shoot(browser, hall, "wall", 1920, 1080)
            shoot(browser, hall, "wall", 3840, 2160)
            hall.accounts.create_user("docs-leader", "docs-leader-pass", Role.LEADER)
            shoot_tablet(browser, hall, 768, 1024)
            shoot_tablet(browser, hall, 1366, 1024)
            typhoon(hall)
            shoot(browser, hall, "wall-emergency", 1920, 1080)
            browser.close()


if __name__ == "__main__":
    main()
