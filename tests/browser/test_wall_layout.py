"""The wall's geometry at 1080p and 4K: whole rows, legible sizes, nothing overlapping.

Boxes are measured in Chromium (getBoundingClientRect); each hall here is the tests'
own, so that the board under test is the first one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_wall import open_wall, publish_dispatched_case
from tests.hall import Hall

SIZES = [(1920, 1080), (3840, 2160)]
DEPARTMENT = "highways"
CASES = 10  # more than a board holds

# 16 arcminutes at 5 m, as pixels of a 55-inch 16:9 panel of 1080 rows (issue 8).
PANEL_HEIGHT_MM = 55 * 25.4 * 9 / math.hypot(16, 9)
READABLE_PX = 2 * 5000 * math.tan(math.radians(16 / 60 / 2)) / (PANEL_HEIGHT_MM / 1080)


@pytest.fixture(scope="module")
def layout_hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A hall whose first board holds more cases than fit."""
    running = Hall(Path(tmp_path_factory.mktemp("layout")) / "hall", redis_url)
    for _ in range(CASES):
        publish_dispatched_case(running, DEPARTMENT)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def english_hall(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Hall]:
    """A hall whose screens speak English."""
    running = Hall(Path(tmp_path_factory.mktemp("english")) / "hall", redis_url, language="en")
    yield running
    running.stop()


def open_board(page: Page, hall: Hall, size: tuple[int, int]) -> str:
    """Open the wall at a size until its first board has its rows; the board's selector."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_wall(page, hall)
    board = f'.board[data-department="{DEPARTMENT}"]'
    page.wait_for_function(f"commandhall.wall.cases.size === {CASES}", timeout=30_000)
    page.wait_for_function("document.fonts.status === 'loaded'")
    page.wait_for_selector(f"{board} .case-row")
    return board


GEOMETRY = """board => {
    const style = getComputedStyle(board);
    const box = board.getBoundingClientRect();
    const rows = [...board.querySelectorAll('.case-row')].map(r => r.getBoundingClientRect());
    return {
        inner: box.bottom - parseFloat(style.paddingBottom) - parseFloat(style.borderBottomWidth),
        bottoms: rows.map(r => r.bottom),
        pitch: rows.length > 1 ? rows[1].bottom - rows[0].bottom : null,
    };
}"""


@pytest.mark.parametrize("size", SIZES, ids=["1080p", "4k"])
def test_boards_show_whole_case_rows_only(page: Page, layout_hall: Hall, size) -> None:
    """Every case row drawn fits inside its board, and as many rows as fit are drawn."""
    board = open_board(page, layout_hall, size)
    # Rows are fitted again once the served font has loaded: wait for that redraw.
    deadline = time.monotonic() + 10
    while True:
        fit = page.eval_on_selector(board, GEOMETRY)
        room = fit["inner"] - fit["bottoms"][-1]
        if -0.5 <= room < fit["pitch"] or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    print(f"\n{size}: {len(fit['bottoms'])} rows, {room:.1f} px left below the last")
    assert len(fit["bottoms"]) >= 3
    assert all(bottom <= fit["inner"] + 0.5 for bottom in fit["bottoms"])
    assert room < fit["pitch"]  # another row would not fit


def test_what_is_read_from_the_back_is_large_enough(page: Page, layout_hall: Hall) -> None:
    """Case names, countdowns, counts and unit names subtend 16 arcminutes at 5 m."""
    board = open_board(page, layout_hall, SIZES[0])
    sizes = page.eval_on_selector(
        board,
        """b => Object.fromEntries(['.case-name', '.countdown', '.count', '.board-name']
            .map(s => [s, parseFloat(getComputedStyle(b.querySelector(s)).fontSize)]))""",
    )
    print(f"\nfont sizes {sizes}, needed {READABLE_PX:.1f} px")
    assert min(sizes.values()) >= READABLE_PX


VISIBLE_ON_MAP = """() => {
    const map = document.querySelector('.city-map').getBoundingClientRect();
    const legend = document.querySelector('.map-legend').getBoundingClientRect();
    const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
        && b.top < a.bottom;
    const shown = [...document.querySelectorAll(
        'path[data-district], .leaflet-marker-pane .leaflet-marker-icon')]
        .map(e => e.getBoundingClientRect()).filter(r => r.width && meets(r, map));
    return {shown: shown.length, covered: shown.filter(r => meets(r, legend)).length};
}"""


def test_map_legend_covers_no_district_or_cluster(page: Page, layout_hall: Hall) -> None:
    """The legend is legible and sits where no district outline or marker is drawn."""
    open_board(page, layout_hall, SIZES[0])
    legend = page.locator(".map-legend")
    legend.locator(".legend-swatch").first.wait_for()
    page.wait_for_selector(".leaflet-marker-pane .leaflet-marker-icon")
    found = page.evaluate(VISIBLE_ON_MAP)
    assert found["shown"] > 0 and found["covered"] == 0, found
    assert legend.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 0.02 * 1080


HAZARDS = ["typhoon", "rainstorm", "flood", "other"]
BANNER_BOXES = """() => {
    const box = s => document.querySelector(s).getBoundingClientRect();
    const banner = document.querySelector('#emergency-banner');
    const clipped = [...banner.children].filter(e => !e.classList.contains('em-note'))
        .filter(e => e.scrollWidth > e.clientWidth + 1
            || e.getBoundingClientRect().right > banner.getBoundingClientRect().right + 0.5);
    const title = banner.querySelector('.em-title');
    const line = parseFloat(getComputedStyle(title).lineHeight);
    return {
        banner: box('#emergency-banner'), header: box('.wall-header'), kpis: box('.kpi-strip'),
        heading: box('.wall-title'), clock: box('#wall-clock'), clipped: clipped.length,
        titleLines: title.getBoundingClientRect().height / line,
    };
}"""


@pytest.mark.parametrize("size", SIZES, ids=["1080p", "4k"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_emergency_banner_fits_in_the_header(
    page: Page, layout_hall: Hall, english_hall: Hall, language: str, size
) -> None:
    """Each hazard's banner is one line inside the header, clear of the strip and clock."""
    hall = english_hall if language == "en" else layout_hall
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_wall(page, hall)
    # The banner has drawn the state the server said (none) before it is given one here.
    page.wait_for_function("commandhall.banner.shownAt !== null")
    page.wait_for_function("document.fonts.status === 'loaded'")
    page.wait_for_function("document.getElementById('wall-clock').textContent !== ''")
    for hazard in HAZARDS:
        page.evaluate(
            """hazard => commandhall.banner.set({hazard, level: 'orange',
                raised_at: Date.now() - 3723000, note: '台风“海燕”登陆预警，请各单位立即到岗'})""",
            hazard,
        )
        page.wait_for_function(
            "/\\d/.test(document.querySelector('#emergency-banner .em-since').textContent)"
        )
        boxes = page.evaluate(BANNER_BOXES)
        banner, header = boxes["banner"], boxes["header"]
        print(f"\n{language} {size} {hazard}: banner {banner}")
        assert banner["top"] >= max(0, header["top"]) and banner["bottom"] <= header["bottom"]
        assert banner["bottom"] <= boxes["kpis"]["top"]
        assert banner["left"] >= boxes["heading"]["right"]
        assert banner["right"] <= boxes["clock"]["left"]
        assert boxes["titleLines"] < 1.5 and boxes["clipped"] == 0, boxes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-banner-{language}-{size[0]}x{size[1]}.png"))
