"""An unattended wall never goes silently stale: resync, revocation, clock offset."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Page, WebSocketRoute

from streams.names import push_channel
from tests.browser.test_wall import open_wall, publish_dispatched_case
from tests.hall import Hall
from tests.stories import story


@pytest.fixture
def own_hall(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A hall of this test's own, which it may stop and start."""
    running = Hall(tmp_path / "hall", redis_url)
    yield running
    running.stop()


def row(case_id: str) -> str:
    """Selector of a case's row on a board."""
    return f'.board [data-case-id="{case_id}"]'


def test_wall_resyncs_after_the_web_server_restarts(page: Page, own_hall: Hall) -> None:
    """Cases that arrived while the server was down appear after it comes back."""
    open_wall(page, own_hall)
    before = publish_dispatched_case(own_hall)
    page.wait_for_selector(row(before), timeout=15_000)
    own_hall.stop_web()
    page.wait_for_function("!window.commandhall.live.connected", timeout=15_000)
    during = [publish_dispatched_case(own_hall) for _ in range(3)]
    assert page.locator(row(during[0])).count() == 0
    own_hall.start_web()
    for case_id in during:
        page.wait_for_selector(row(case_id), timeout=40_000)
    assert page.evaluate("window.commandhall.live.resyncs") >= 1
    after = publish_dispatched_case(own_hall)
    page.wait_for_selector(row(after), timeout=15_000)


def test_revoked_screen_says_so_within_seconds(page: Page, own_hall: Hall) -> None:
    """Revoking a screen's token covers it with a clear message, without a reload."""
    token = own_hall.accounts.create_token("screen-revoke")
    page.goto(f"{own_hall.base_url}/wall/?token={token}")
    page.wait_for_function("window.commandhall && window.commandhall.live.connected")
    own_hall.accounts.revoke("screen-revoke")
    page.wait_for_selector("[data-refused]", timeout=20_000)
    assert "no longer valid" in page.inner_text(".screen-refused")


def test_countdown_uses_the_server_clock(page: Page, own_hall: Hall) -> None:
    """A browser whose clock is two hours fast still counts down from server time."""
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=2))
    open_wall(page, own_hall)
    case_id = f"K{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    own_hall.producer.publish_many(story(case_id, now, deadline=now + timedelta(minutes=30)))
    page.wait_for_selector(f"{row(case_id)} .countdown", timeout=15_000)
    text = page.inner_text(f"{row(case_id)} .countdown")
    assert text.startswith(("00:29", "00:30")), text


def test_pushes_missed_before_the_socket_joined_are_caught_up(page: Page, hall: Hall) -> None:
    """Cases pushed after the page's snapshot, while its socket could not connect yet,
    appear once it does: the page's snapshot carries its push position."""
    listener = redis.Redis.from_url(hall.settings.redis_url).pubsub()
    listener.subscribe(push_channel(hall.settings.stream_key))
    holding = [True]

    def socket(route: WebSocketRoute) -> None:
        # Refused while holding, as a web server busy or a network slow would: the
        # client keeps retrying with its back-off.
        if holding[0]:
            route.close()
        else:
            route.connect_to_server()

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), socket)
    page.goto(hall.wall_url)
    page.wait_for_function("window.commandhall && window.commandhall.wall.loaded", timeout=60_000)
    missed = [publish_dispatched_case(hall) for _ in range(3)]
    wait_pushed(listener, missed)
    holding[0] = False
    page.wait_for_function("window.commandhall.live.connected", timeout=60_000)
    after = publish_dispatched_case(hall)
    # The wall's own cases, not its boards: a board shows a page of them at a time.
    page.wait_for_function(
        "ids => ids.every(id => window.commandhall.wall.cases.has(id))",
        arg=[after, *missed],
        timeout=30_000,
    )
    listener.close()


def wait_pushed(listener: redis.client.PubSub, case_ids: list[str]) -> None:
    """Until each case's dispatch has been pushed to screens (to nobody, here)."""
    waiting, deadline = set(case_ids), time.monotonic() + 60
    while waiting and time.monotonic() < deadline:
        message = listener.get_message(timeout=1.0)
        if message and message["type"] == "message":
            text = message["data"].decode()
            waiting -= {c for c in waiting if c in text and '"dispatched"' in text}
    assert not waiting, f"never pushed: {waiting}"
