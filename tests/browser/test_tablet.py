"""The leader's tablet in a finger's reach: at 768 and 1366 px wide, touch only.

Cases of their own (ids TAB-…) go into the shared hall once per module; every wait is
on what the page shows, never on time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page

from dashboard.store.accounts import AuthError, Role
from streams.producer import new_event
from tests.browser.conftest import ARTIFACTS
from tests.hall import Hall
from tests.stories import story

SIZES = [(768, 1024), (1366, 1024)]
WAIT = 60_000
XIANGZHOU, DOUMEN = "440402", "440403"


@pytest.fixture(scope="module")
def hall(module_hall: Hall) -> Hall:
    """This module's own hall: its cases stay off the other modules' boards."""
    return module_hall


# Everything a finger can use: links, controls, focusable and pointer-cursor elements.
TARGETS = """() => [...document.querySelectorAll('.tablet *')].filter(el => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const tappable = el.matches('a[href], button, input, select, textarea, [role=button],'
        + ' [tabindex]:not([tabindex="-1"])') || el.onclick !== null;
    const pointer = style.cursor === 'pointer' && style.pointerEvents !== 'none'
        && getComputedStyle(el.parentElement).cursor !== 'pointer';
    return tappable || pointer;
}).map(el => {
    const box = el.getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 80), width: box.width, height: box.height};
}).filter(t => t.width > 0 && t.height > 0)"""


@pytest.fixture(scope="module")
def city(hall: Hall) -> dict[str, str]:
    """Cases of two units in two districts: red, green, and one closed a week ago."""
    now = datetime.now(UTC)
    events = [
        *story("TAB-S1", now - timedelta(hours=3), "sanitation",
               deadline=now - timedelta(hours=1), district=XIANGZHOU),
        *story("TAB-S2", now - timedelta(minutes=10), "sanitation",
               deadline=now + timedelta(hours=4), district=DOUMEN),
        *story("TAB-G1", now - timedelta(hours=5), "gardens",
               deadline=now - timedelta(hours=2), district=XIANGZHOU),
        *story("TAB-C1", now - timedelta(days=8), "sanitation",
               deadline=now - timedelta(days=8) + timedelta(hours=4), district=XIANGZHOU),
        new_event("case.handled", "TAB-C1", now - timedelta(days=8) + timedelta(hours=1)),
        new_event("case.closed", "TAB-C1", now - timedelta(days=8) + timedelta(hours=2)),
    ]  # fmt: skip
    hall.producer.publish_many(events)
    try:
        hall.add_user("touch-leader", Role.LEADER)
    except AuthError:
        pass
    return {"red": "TAB-S1", "green": "TAB-S2", "other": "TAB-G1"}


def open_tablet(browser: Browser, hall: Hall, size: tuple[int, int], path: str = "") -> Page:
    """A touch tablet signed in as a leader, on the tablet page (at `path`)."""
    width, height = size
    context = browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{hall.base_url}/login?next=/tablet/{path}")
    page.fill("input[name=username]", "touch-leader")
    page.fill("input[name=password]", "touch-leader-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".tablet [data-view]", timeout=WAIT)
    return page


@pytest.fixture
def leader_page(browser: Browser, hall: Hall, city: dict, request) -> Iterator[Page]:
    """The tablet at a size, signed in as a leader, its overview showing our red case."""
    page = open_tablet(browser, hall, request.param)
    page.wait_for_selector(f'[data-panel=overdue] [data-case-id="{city["red"]}"]', timeout=WAIT)
    yield page
    page.context.close()


def small_targets(page: Page) -> list[dict]:
    """Tap targets under 44 x 44 px."""
    return [t for t in page.evaluate(TARGETS) if t["width"] < 44 or t["height"] < 44]


@pytest.mark.parametrize("leader_page", SIZES, indirect=True, ids=["768", "1366"])
def test_every_tap_target_is_finger_sized_in_every_view(leader_page: Page, city: dict) -> None:
    """Overview, a unit, a case: every clickable element is at least 44 x 44 px."""
    assert leader_page.evaluate(TARGETS), "found nothing to tap: the measure is broken"
    assert small_targets(leader_page) == []
    leader_page.tap('[data-ranking=unit] a[data-code="sanitation"]')
    leader_page.wait_for_selector("[data-view=group] [data-trend] .main-svg", timeout=WAIT)
    assert small_targets(leader_page) == []
    leader_page.tap(f'[data-view=group] [data-case-id="{city["red"]}"]')
    leader_page.wait_for_selector("[data-action=supervise]", timeout=WAIT)
    assert small_targets(leader_page) == []


@pytest.mark.parametrize("leader_page", SIZES, indirect=True, ids=["768", "1366"])
def test_nothing_is_wider_than_the_screen_and_the_title_is_one_line(leader_page: Page) -> None:
    """No sideways scrolling, no zoom needed; the title stays on one line."""
    width = leader_page.viewport_size["width"]  # type: ignore[index]
    assert leader_page.evaluate("document.documentElement.scrollWidth") <= width
    lines = leader_page.evaluate(
        """() => {
            const range = document.createRange();
            range.selectNodeContents(document.querySelector('.view-header h1'));
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1
    smallest = leader_page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.tablet *')]
            .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(el => parseFloat(getComputedStyle(el).fontSize)))"""
    )
    assert smallest >= 14  # readable at arm's length without zooming
    ARTIFACTS.mkdir(exist_ok=True)
    leader_page.screenshot(path=str(ARTIFACTS / f"tablet-{width}.png"), full_page=True)


@pytest.mark.parametrize("leader_page", SIZES[:1], indirect=True, ids=["768"])
def test_drilling_into_a_unit_shows_only_its_cases(leader_page: Page, city: dict) -> None:
    """Sanitation's page lists its red and green cases and none of gardens'."""
    leader_page.tap('[data-ranking=unit] a[data-code="sanitation"]')
    group = leader_page.wait_for_selector(
        f'[data-view=group][data-code=sanitation] [data-case-id="{city["green"]}"]', timeout=WAIT
    )
    assert group is not None
    units = leader_page.eval_on_selector_all(
        "[data-view=group] [data-case-id]", "els => els.map(e => e.dataset.unit)"
    )
    assert units and set(units) == {"sanitation"}
    assert leader_page.query_selector(f'[data-case-id="{city["other"]}"]') is None
    red = leader_page.locator(f'[data-light-section=red] [data-case-id="{city["red"]}"]')
    assert red.count() == 1
    assert "?unit=sanitation" in leader_page.url


@pytest.mark.parametrize("leader_page", SIZES[:1], indirect=True, ids=["768"])
def test_turning_the_tablet_keeps_the_case_and_the_note(leader_page: Page, city: dict) -> None:
    """From portrait to landscape the case stays open and the half-typed note stays."""
    leader_page.tap(f'[data-panel=overdue] [data-case-id="{city["red"]}"]')
    leader_page.wait_for_selector(f'.case-detail[data-case-id="{city["red"]}"]', timeout=WAIT)
    leader_page.fill("#supervise-note", "请区里牵头")
    leader_page.set_viewport_size({"width": 1024, "height": 768})
    leader_page.wait_for_function("document.documentElement.clientWidth === 1024", timeout=WAIT)
    assert leader_page.input_value("#supervise-note") == "请区里牵头"
    assert leader_page.query_selector(f'.case-detail[data-case-id="{city["red"]}"]') is not None
    leader_page.reload()
    leader_page.wait_for_selector(f'.case-detail[data-case-id="{city["red"]}"]', timeout=WAIT)


def test_a_leader_supervises_from_the_tablet_and_the_wall_marks_it(
    browser: Browser, hall: Hall, city: dict, page: Page
) -> None:
    """督办 with a note: the case.supervised entry shows in the history and on the wall."""
    case_id = city["other"]
    page.goto(hall.wall_url)
    page.wait_for_selector(f'.board [data-case-id="{case_id}"]', timeout=WAIT)
    assert page.get_attribute(f'.board [data-case-id="{case_id}"]', "data-supervised") == ""
    tablet = open_tablet(browser, hall, SIZES[1], f"?case={case_id}")
    tablet.wait_for_selector("[data-action=supervise]", timeout=WAIT)
    tablet.fill("#supervise-note", "请园林局今天处理完毕")
    tablet.tap("[data-action=supervise]")
    page.wait_for_selector(
        f'.board [data-case-id="{case_id}"][data-supervised=true] .mark-supervised', timeout=WAIT
    )
    entry = tablet.wait_for_selector(
        '.case-detail [data-event-type="case.supervised"]', timeout=WAIT
    )
    assert entry is not None and "touch-leader" in entry.inner_text()
    tablet.context.close()


@pytest.mark.parametrize("leader_page", SIZES[1:], indirect=True, ids=["1366"])
def test_the_rates_over_30_days_are_numbers_with_the_month_beside(leader_page: Page) -> None:
    """The 30-day rates show a percentage; the month's says one or that nothing is due."""
    for key in ("closure_rate", "on_time_rate"):
        value = leader_page.inner_text(f'[data-kpi="{key}_30d"] .value')
        assert value.endswith("%"), value
        month = leader_page.inner_text(f'[data-kpi-month="{key}"]')
        assert month.endswith("%") or month == "本月尚无到期案件", month


def test_the_walls_strip_shows_the_30_days_beside_the_month(hall: Hall, city: dict, page) -> None:
    """The wall's rate cells hold the last 30 days' rate and the month's under it."""
    page.goto(hall.wall_url)
    page.wait_for_selector('.kpi-strip [data-kpi="on_time_rate_30d"] .kpi-value', timeout=WAIT)
    page.wait_for_function(
        """() => /%$/.test(document.querySelector(
            '.kpi-strip [data-kpi="closure_rate_30d"] .kpi-value').textContent)""",
        timeout=WAIT,
    )
    month = page.inner_text('.kpi-strip [data-kpi-month="closure_rate"]')
    assert month.endswith("%") or month == "本月尚无到期案件", month


@pytest.mark.parametrize("leader_page", SIZES[:1], indirect=True, ids=["768"])
def test_the_tablet_says_how_old_its_data_is_and_recovers(leader_page: Page, hall: Hall) -> None:
    """With the web server gone the page says the connection is lost; it comes back alone."""
    leader_page.wait_for_selector("#data-age[data-age-state=fresh]", timeout=WAIT)
    hall.stop_web()
    try:
        leader_page.wait_for_function(
            "document.getElementById('data-age').textContent.startsWith('连接中断')",
            timeout=WAIT,
        )
    finally:
        hall.start_web()
    leader_page.wait_for_selector("#data-age[data-age-state=fresh]", timeout=WAIT)
    leader_page.wait_for_function(
        "document.getElementById('data-age').textContent.startsWith('数据')", timeout=WAIT
    )


def test_the_bulletin_prints_to_a4_without_cutting_a_column(
    browser: Browser, hall: Hall, city: dict
) -> None:
    """At A4's printable width (186 mm at 96 dpi) in print media, nothing spills over."""
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = open_tablet(browser, hall, (703, 1000))
    page.goto(f"{hall.base_url}/tablet/bulletin?month={month}")
    page.wait_for_selector("body.bulletin [data-section=department] table", timeout=WAIT)
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth") <= 703
    assert page.is_hidden("form.no-print")
    assert page.get_attribute("a[data-csv]", "href") == f"/tablet/bulletin.csv?month={month}"
    page.context.close()
