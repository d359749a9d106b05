"""The duty commander's desk in Chromium: live table, filters, detail, actions, alerts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine, select

from dashboard.process import demo
from dashboard.store.models import AuditEntry
from streams.names import lane_key
from tests.browser.conftest import ARTIFACTS
from tests.hall import Hall
from tests.stories import story

GRID_ROW = '.desk-grid .ag-center-cols-container [row-id="{}"]'


@pytest.fixture(scope="module")
def hall(module_hall: Hall) -> Hall:
    """This module's own hall: its cases stay off the other modules' boards."""
    return module_hall


@pytest.fixture
def desk(browser: Browser, hall: Hall) -> Iterator[Page]:
    """The desk at 1920x1080, signed in as the demo's commander, table loaded."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    sign_in(page, hall, "/desk/")
    loaded(page)
    yield page
    context.close()


def loaded(page: Page) -> None:
    """Until the desk's table holds the open cases."""
    page.wait_for_function(
        "window.commandhall && window.commandhall.desk && window.commandhall.desk.loaded",
        timeout=60_000,
    )


def sign_in(page: Page, hall: Hall, target: str) -> None:
    """Sign in as the demo's commander and open `target`."""
    page.goto(f"{hall.base_url}/login?next={target}")
    page.fill("input[name=username]", demo.COMMANDER)
    page.fill("input[name=password]", hall.password)
    page.click("button[type=submit]")


def publish(hall: Hall, department: str = "sanitation", **report) -> str:
    """Report, file and dispatch a new case; its id."""
    case_id = f"D{uuid.uuid4().hex[:10]}"
    report = {"lon": 113.56, "lat": 22.27, **report}
    hall.producer.publish_many(story(case_id, datetime.now(UTC), department, **report))
    return case_id


def in_table(page: Page, case_id: str) -> None:
    """Until the desk holds the case (in its model: the grid draws only visible rows)."""
    page.wait_for_function(
        f"window.commandhall.desk.rows.has('{case_id}') && "
        f"!!window.commandhall.desk.api.getRowNode('{case_id}')",
        timeout=30_000,
    )


def only(page: Page, case_id: str) -> str:
    """Narrow the table to one case by its number; the selector of its row."""
    in_table(page, case_id)
    page.fill("#filter-text", case_id)
    row = GRID_ROW.format(case_id)
    page.wait_for_selector(row, timeout=30_000)
    return row


def after_filter(page: Page) -> list[str]:
    """Ids of the rows the grid's filter keeps."""
    return page.evaluate(
        """() => { const out = []; window.commandhall.desk.api.forEachNodeAfterFilter(
        n => out.push(n.data.id)); return out; }"""
    )


def test_a_published_case_appears_and_its_row_updates_in_place(desk: Page, hall: Hall) -> None:
    """A new case gets a row; when it changes the row element is the same node."""
    case_id = publish(hall)
    row = only(desk, case_id)
    desk.evaluate(f"document.querySelector('{row}').__sameNode = true")
    hall.producer.publish_many(
        [{**story(case_id, datetime.now(UTC))[0], "event_id": f"u-{case_id}",
          "type": "case.urged", "by": "someone"}]
    )  # fmt: skip
    desk.wait_for_function(
        f"""() => {{ const r = document.querySelector('{row}');
        return r && r.textContent.includes('×1'); }}""",
        timeout=30_000,
    )
    assert desk.evaluate(f"document.querySelector('{row}').__sameNode === true")


def test_filtering_by_unit_shows_only_its_cases_and_lives_in_the_url(
    desk: Page, hall: Hall
) -> None:
    """Filtered to one unit: only its rows; the URL says so and opens the same filter."""
    mine, other = publish(hall, "sanitation"), publish(hall, "water")
    in_table(desk, mine)
    in_table(desk, other)
    desk.click("#filter-department")
    desk.keyboard.type("环境卫生")
    desk.get_by_role("option", name="珠海市环境卫生管理处").click()
    desk.wait_for_function("location.search.includes('dep=sanitation')", timeout=30_000)
    desk.wait_for_function(
        f"window.commandhall.desk.api.getRowNode('{other}').displayed === false",
        timeout=30_000,
    )
    shown = after_filter(desk)
    assert mine in shown and other not in shown
    departments = desk.evaluate(
        "ids => ids.map(id => window.commandhall.desk.rows.get(id).dep)", shown
    )
    assert set(departments) == {"sanitation"}
    desk.goto(desk.url)
    loaded(desk)
    in_table(desk, mine)
    shown = after_filter(desk)
    assert mine in shown and other not in shown


def test_selecting_a_case_shows_its_history_and_text_stays_text(desk: Page, hall: Hall) -> None:
    """The detail lists every event; HTML in a description is shown, not run."""
    case_id = publish(hall, description="<img src=x onerror=window.__pwned=1>井盖缺失")
    desk.click(only(desk, case_id))
    detail = f'.case-detail[data-case-id="{case_id}"]'
    desk.wait_for_selector(detail, timeout=30_000)
    types = desk.eval_on_selector_all(
        f"{detail} [data-event-type]", "els => els.map(e => e.dataset.eventType)"
    )
    assert types == ["case.reported", "case.filed", "case.dispatched"]
    assert "<img src=x" in desk.inner_text(detail)
    assert desk.evaluate("window.__pwned === undefined")


def test_urging_publishes_with_the_commanders_name_and_is_audited(desk: Page, hall: Hall) -> None:
    """The urge button puts case.urged on the stream; the mark comes back to the row."""
    case_id = publish(hall)
    desk.click(only(desk, case_id))
    desk.wait_for_selector(f'.case-detail[data-case-id="{case_id}"]', timeout=30_000)
    desk.fill("#action-note", "请尽快处置")
    desk.click('[data-action="urge"]')
    desk.wait_for_function(
        f"""() => {{ const r = document.querySelector('{GRID_ROW.format(case_id)}');
        return r && r.textContent.includes('×1'); }}""",
        timeout=30_000,
    )
    # The detail follows too: the urge comes back through the stream into its history.
    desk.wait_for_selector(
        f'.case-detail[data-case-id="{case_id}"] [data-event-type="case.urged"]', timeout=30_000
    )
    entries = hall.producer.redis.xrange(lane_key(hall.settings.stream_key))
    urged = [json.loads(f[b"event"]) for _, f in entries]
    urged = [e for e in urged if e["type"] == "case.urged" and e["case_id"] == case_id]
    assert len(urged) == 1 and urged[0]["by"] == demo.COMMANDER
    engine = create_engine(hall.settings.resolved_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == "case.urge")
        ).all()
    assert any(actor == demo.COMMANDER and case_id in detail for actor, detail in rows)


def test_an_overdue_case_raises_an_alert_that_can_be_acknowledged(desk: Page, hall: Hall) -> None:
    """A case past its deadline is an alert; seen, it stays gone after a reload."""
    case_id = f"O{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    hall.producer.publish_many(
        story(case_id, now - timedelta(minutes=10), lon=113.56, lat=22.27,
              deadline=now + timedelta(seconds=20))
    )  # fmt: skip
    alert = f'[data-alert="overdue"][data-case-id="{case_id}"]'
    desk.wait_for_selector(alert, timeout=60_000)
    desk.click(f"{alert} button.ack")
    desk.wait_for_selector(alert, state="detached", timeout=30_000)
    desk.reload()
    loaded(desk)
    in_table(desk, case_id)
    desk.wait_for_selector("#desk-alerts .alerts-head", timeout=30_000)
    assert desk.locator(alert).count() == 0


def test_the_desk_screenshot(desk: Page, hall: Hall) -> None:
    """A picture of the desk with a case selected, for docs/ (and the test's artifacts)."""
    case_id = publish(hall, description="井盖缺失，行人易跌落", address="香洲区凤凰路 88 号")
    in_table(desk, case_id)
    desk.evaluate(
        """id => { const api = window.commandhall.desk.api, node = api.getRowNode(id);
        node.setSelected(true, true); api.ensureNodeVisible(node, "middle"); }""",
        case_id,
    )
    desk.wait_for_selector(f'.case-detail[data-case-id="{case_id}"]', timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(ARTIFACTS / "desk.png"))


AGREE = """async (query) => {
  const desk = window.commandhall.desk;
  const params = new URLSearchParams(query);
  const values = {};
  ["dep", "dis", "kind", "major", "cat", "src", "st", "light", "u"].forEach(k => {
    values[k] = new Set((params.get(k) || "").split(",").filter(Boolean)); });
  const filter = {values, sv: params.get("sv") === "1", q: params.get("q") || "", closed: false};
  const at = window.commandhall.live.now();
  const inBrowser = Array.from(desk.rows.values()).filter(c => desk.passes(c, filter, at))
    .map(c => c.id).sort();
  const text = await (await fetch("/api/desk/export.csv?" + query)).text();
  const inSql = text.trim().split("\\n").slice(1).map(line => line.split(",")[0]).sort();
  return [inBrowser, inSql];
}"""


@pytest.mark.parametrize(
    "query", ["dep=water", "light=red", "light=green,yellow&dep=sanitation", "q=d", "major=01"]
)
def test_the_browsers_filter_and_the_exports_agree(desk: Page, hall: Hall, query: str) -> None:
    """The table's filter (desk.js) keeps the cases the CSV export (SQL) keeps."""
    now = datetime.now(UTC)
    late = f"L{uuid.uuid4().hex[:8]}"
    hall.producer.publish_many(story(late, now - timedelta(hours=1), "sanitation",
                                     deadline=now - timedelta(minutes=1)))  # fmt: skip
    for case_id in (late, publish(hall, "water"), publish(hall, "sanitation")):
        in_table(desk, case_id)
    in_browser, in_sql = desk.evaluate(AGREE, query)
    assert in_browser == in_sql and in_sql
