"""A light wall (issue 14): pushes are drawn together, lights turn without a push.

A hall of the module's own: the rows under test must be among the few a board shows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page

from streams.producer import new_event
from tests.browser.test_wall import open_wall
from tests.hall import Hall

# Ten pushes of one case delivered in one go, as the socket hands them over one by
# one; each moves its deadline. Returns the last deadline.
BURST = """id => {
  const deliver = window.commandhall.live.socket.listeners("cases")[0];
  const now = Date.now();
  window.__redrawsBefore = window.commandhall.wall.redraws;
  for (let i = 0; i < 10; i++) {
    deliver({ now: now, cases: [{
      id: id, st: "dispatched", dep: "sanitation", k: "event", cat: "0102", lon: 113.45,
      lat: 22.3, dis: "", dl: now + 60000 + i, wa: now + 50000, em: false, sv: false,
    }] });
  }
  return now + 60009;
}"""


def test_a_burst_of_pushes_is_drawn_in_one_redraw(page: Page, module_hall: Hall) -> None:
    """Ten pushes at once reach the board together, not as ten redraws."""
    open_wall(page, module_hall)
    case_id = f"R{uuid.uuid4().hex[:9]}"
    last = page.evaluate(BURST, case_id)
    page.wait_for_selector(
        f'#wall-boards [data-case-id="{case_id}"] .countdown[data-deadline="{last}"]',
        timeout=15_000,
    )
    redraws = page.evaluate("commandhall.wall.redraws - window.__redrawsBefore")
    # One for the burst; a tick or a light turning may fall in the same moment.
    assert 1 <= redraws <= 3, redraws


def test_a_case_turns_red_on_its_board_at_its_deadline(page: Page, module_hall: Hall) -> None:
    """A board's row turns red when its deadline passes, with no push to say so."""
    open_wall(page, module_hall)
    case_id = f"T{uuid.uuid4().hex[:9]}"
    now = datetime.now(UTC)
    common = {"source": "inspector", "kind": "event", "category": "0102"}
    module_hall.producer.publish_many(
        [
            new_event("case.reported", case_id, now, lon=113.45, lat=22.3, **common),
            new_event("case.filed", case_id, now),
            new_event(
                "case.dispatched",
                case_id,
                now,
                department="sanitation",
                deadline=(now + timedelta(seconds=6)).isoformat(),
            ),
        ]
    )
    row = f'#wall-boards [data-case-id="{case_id}"]'
    page.wait_for_selector(row, timeout=15_000)
    page.wait_for_selector(f'{row}[data-light="red"]', timeout=20_000)
