"""After-action reports: each emergency period's levels, per-unit figures and CSV export.

The fixture, a typhoon on Monday 2026-11-23 from 09:00 (minute 0) to 19:00 (minute
600), Shanghai time. Deadlines follow the emergency policy: natural hours, the
category's limit capped at 12 h (orange) or 6 h (red); a working day is 7 h.

  minute  event
     -30  R0 damaged road reported; dispatched -28 → gardens (before the raise: normal)
       0  typhoon orange
      10  R1 damaged road (event 0110), inspector; dispatched 12 → gardens,
          3 wd = 21 h → 12 h: due 732; handled 132 (2 h), closed 150: on time
      28  S1 sewage cover (component 0102), inspector; dispatched 30 → drainage,
          1 wd = 7 h: due 450; handled 120 (1.5 h), closed 140: on time
      60  typhoon red
      60  G1 exposed garbage (event 0102, not an emergency class), citizen, on the
          hour; dispatched 62 → sanitation, handled 65, closed 70: not an emergency case
      70  T1 street tree (component 0402), inspector; dispatched 72 → gardens,
          2 wd = 14 h → 6 h: due 432; handled 492 (7 h), closed 500: late
      78  T2 street tree, citizen; dispatched 80 → gardens, due 440; still open: overdue
      88  S2 sewage cover, inspector; dispatched 90 → drainage, 7 h → 6 h: due 450;
          handled 270 (3 h), not yet verified: open, but handled in time, not overdue
     600  typhoon cleared
     610  G9 dirty road flagged emergency by its producer; dispatched 612: after the clear
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.store import afteraction
from dashboard.store.afteraction import HourlyReports, LevelSpan, Report, UnitFigures
from dashboard.store.batch import Store
from dashboard.store.models import Case
from dashboard.web import csvout
from streams.consumer import Item
from streams.producer import new_event
from streams.schema import validate

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00 in Shanghai.
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


def at(minutes: float) -> datetime:
    """A moment `minutes` after the typhoon was raised."""
    return T0 + timedelta(minutes=minutes)


def apply(store: Store, events: list[dict[str, Any]]) -> None:
    """Apply events through the store, in order, in one batch; none may be refused."""
    items = [Item(f"{i}-0", validate(event)) for i, event in enumerate(events)]
    assert store.apply_batch(items).rejected == []


def signal(level: str, minutes: float, hazard: str = "typhoon", **extra: Any) -> dict[str, Any]:
    """An emergency.raised event from the weather service."""
    return new_event("emergency.raised", at=at(minutes), hazard=hazard, level=level, **extra)


def cleared(minutes: float, **extra: Any) -> dict[str, Any]:
    """An emergency.cleared event."""
    return new_event("emergency.cleared", at=at(minutes), **extra)


def dispatched(
    case_id: str, kind: str, category: str, minutes: float, department: str, **report: Any
) -> list[dict[str, Any]]:
    """A case reported at `minutes` (by an inspector unless told), filed, and
    dispatched two minutes later."""
    report.setdefault("source", "inspector")
    return [
        new_event(
            "case.reported",
            case_id,
            at(minutes),
            kind=kind,
            category=category,
            lon=113.5,
            lat=22.2,
            **report,
        ),
        new_event("case.filed", case_id, at(minutes + 1)),
        new_event("case.dispatched", case_id, at(minutes + 2), department=department),
    ]


def done(case_id: str, handled: float, closed: float | None = None) -> list[dict[str, Any]]:
    """The department reports the case handled; the shift leader closes it."""
    events = [new_event("case.handled", case_id, at(handled))]
    if closed is not None:
        events.append(new_event("case.closed", case_id, at(closed)))
    return events


def typhoon_events() -> list[dict[str, Any]]:
    """The events of the module doc's typhoon, in time order."""
    return [
        *dispatched("R0", "event", "0110", -30, "gardens"),
        signal("orange", 0, by="weather", note="台风“山竹”橙色预警"),
        *dispatched("R1", "event", "0110", 10, "gardens"),
        *dispatched("S1", "component", "0102", 28, "drainage"),
        signal("red", 60, by="weather"),
        *dispatched("G1", "event", "0102", 60, "sanitation", source="citizen"),
        *done("G1", 65, 70),
        *dispatched("T1", "component", "0402", 70, "gardens"),
        *dispatched("T2", "component", "0402", 78, "gardens", source="citizen"),
        *dispatched("S2", "component", "0102", 88, "drainage"),
        *done("S1", 120, 140),
        *done("R1", 132, 150),
        *done("S2", 270),
        *done("T1", 492, 500),
        cleared(600, by="commander", note="解除应急"),
        *dispatched("G9", "event", "0104", 610, "sanitation", emergency=True),
    ]


@pytest.fixture
def typhoon(store: Store) -> Store:
    """The store after the module doc's typhoon."""
    apply(store, typhoon_events())
    return store


def report_of(store: Store, emergency_id: int, now: datetime) -> Report:
    """The after-action report of a period that must exist."""
    with store.sessions() as session:
        found = afteraction.report(session, emergency_id, now)
    assert found is not None
    return found


def period_id(store: Store) -> int:
    """The id of the only (or newest) emergency period."""
    with store.sessions() as session:
        return int(afteraction.periods(session)[0]["id"])


def case_of(store: Store, case_id: str) -> Case:
    """A case that must exist."""
    found = store.case(case_id)
    assert found is not None
    return found


def test_fixture_deadlines_are_as_worked_out(typhoon: Store) -> None:
    """The hand-worked deadlines hold: 12 h at orange, 6 h at red; only R1..S2 and G9
    are emergency cases."""
    assert case_of(typhoon, "R1").deadline == at(12 + 12 * 60)
    assert case_of(typhoon, "S1").deadline == at(30 + 7 * 60)
    assert case_of(typhoon, "T1").deadline == at(72 + 6 * 60)
    assert case_of(typhoon, "S2").deadline == at(90 + 6 * 60)
    flagged = [
        c for c in ("R0", "R1", "G1", "S1", "T1", "T2", "S2", "G9") if case_of(typhoon, c).emergency
    ]
    assert flagged == ["R1", "S1", "T1", "T2", "S2", "G9"]


def test_report_has_the_period_and_who_raised_and_cleared_it(typhoon: Store) -> None:
    """The report names the hazard, start, end and the people and notes of both ends."""
    report = report_of(typhoon, period_id(typhoon), at(2000))
    assert (report.hazard, report.start, report.end) == ("typhoon", at(0), at(600))
    assert (report.raised_by, report.note) == ("weather", "台风“山竹”橙色预警")
    assert (report.cleared_by, report.clear_note) == ("commander", "解除应急")
    assert report.judged_at == at(600)


def test_levels_over_time_run_from_each_change_to_the_next(typhoon: Store) -> None:
    """Orange from the raise until red an hour later; red until the clear."""
    report = report_of(typhoon, period_id(typhoon), at(2000))
    assert report.levels == [
        LevelSpan("orange", "typhoon", at(0), at(60)),
        LevelSpan("red", "typhoon", at(60), at(600)),
    ]


def test_unit_figures_count_only_the_periods_emergency_cases(typhoon: Store) -> None:
    """Per department, most cases first; R0, G1 and G9 are not the period's cases."""
    report = report_of(typhoon, period_id(typhoon), at(2000))
    assert report.units == [
        # R1, T1, T2: R1 on time, T1 late, T2 open past its deadline → 1 / (2 + 1);
        # handling R1 2 h, T1 7 h → 4.5 h (T2 not handled).
        UnitFigures("gardens", 3, 2, 1, 1, 1, 1 / 3, 4.5),
        # S1, S2: S1 on time; S2 handled in time, awaiting verification, not judged
        # → 1 / (1 + 0); handling S1 1.5 h, S2 3 h → 2.25 h.
        UnitFigures("drainage", 2, 1, 1, 1, 0, 1.0, 2.25),
    ]


def test_totals_add_up_the_departments(typhoon: Store) -> None:
    """Totals: 5 cases, 2 on time of 3 closed + 1 overdue; (2+7+1.5+3)/4 h handling."""
    report = report_of(typhoon, period_id(typhoon), at(2000))
    assert report.totals == UnitFigures("*", 5, 3, 2, 2, 1, 2 / 4, 13.5 / 4)


def test_reports_per_hour_cover_the_period_hour_by_hour(typhoon: Store) -> None:
    """Ten hours: R1, S1 in the first; G1 (on the hour), T1, T2, S2 in the second."""
    report = report_of(typhoon, period_id(typhoon), at(2000))
    assert report.reports_per_hour == [
        HourlyReports(at(0), 2, 2),
        HourlyReports(at(60), 4, 2),
        *(HourlyReports(at(60 * hour), 0, 0) for hour in range(2, 10)),
    ]


def test_a_cleared_period_keeps_its_figures_as_of_the_clear(typhoon: Store) -> None:
    """Closing T2 and S2 after the clear changes nothing in the report."""
    before = report_of(typhoon, period_id(typhoon), at(2000))
    apply(typhoon, [*done("T2", 650, 700), new_event("case.closed", "S2", at(620))])
    assert report_of(typhoon, period_id(typhoon), at(3000)) == before


def test_an_active_period_reports_up_to_now(store: Store) -> None:
    """While in force: no end, the level still running, figures and hours up to now."""
    apply(
        store,
        [
            signal("orange", 0),
            *dispatched("R1", "event", "0110", 10, "gardens"),  # due 12 + 720 = 732
            # Reported on the hour: it belongs to the second hour. 14 h → 12 h: due 782.
            *dispatched("T1", "component", "0402", 60, "gardens"),
        ],
    )
    early = report_of(store, period_id(store), at(150))
    assert early.end is None and early.judged_at == at(150)
    assert early.levels == [LevelSpan("orange", "typhoon", at(0), None)]
    # Nothing closed and nothing due yet: no rate, no handling time.
    assert early.totals == UnitFigures("*", 2, 0, 0, 2, 0, None, None)
    # 150 minutes: two whole hours and a part hour.
    assert early.reports_per_hour == [
        HourlyReports(at(0), 1, 1),
        HourlyReports(at(60), 1, 1),
        HourlyReports(at(120), 0, 0),
    ]
    late = report_of(store, period_id(store), at(800))
    # Both past their deadlines at minute 800, none closed: 0 / (0 + 2).
    assert late.totals == UnitFigures("*", 2, 0, 0, 2, 2, 0.0, None)


def test_unknown_period_has_no_report(typhoon: Store) -> None:
    """report() of an id that is no period gives None."""
    with typhoon.sessions() as session:
        assert afteraction.report(session, 999, at(2000)) is None


def test_periods_list_newest_first_with_highest_level(typhoon: Store) -> None:
    """The list page: newest first; the highest level, not the latest, is shown."""
    # A second typhoon the next day, orange then down to yellow, still in force.
    apply(typhoon, [signal("orange", 24 * 60), signal("yellow", 25 * 60)])
    with typhoon.sessions() as session:
        listed = afteraction.periods(session)
    second, first = listed
    assert second["highest_level"] == "orange" and second["end"] is None
    assert second["cases"] == 0
    assert datetime.fromisoformat(second["start"]) == at(24 * 60)
    assert {k: first[k] for k in ("hazard", "highest_level", "cases")} == {
        "hazard": "typhoon",
        "highest_level": "red",
        "cases": 5,
    }
    assert datetime.fromisoformat(first["end"]) == at(600)
    assert first["id"] < second["id"]


def test_as_dict_is_json_ready_with_iso_times(typhoon: Store) -> None:
    """as_dict() goes through json.dumps; times are ISO 8601 with their offset."""
    shown = json.loads(json.dumps(report_of(typhoon, period_id(typhoon), at(2000)).as_dict()))
    assert datetime.fromisoformat(shown["start"]) == at(0)
    assert datetime.fromisoformat(shown["levels"][1]["start"]) == at(60)
    assert shown["totals"]["department"] == "*" and shown["totals"]["cases"] == 5
    assert shown["reports_per_hour"][1] == {
        "start": at(60).astimezone(UTC).isoformat(),
        "reported": 4,
        "inspector": 2,
    }
    assert shown["units"][0]["department"] == "gardens"


def csv_rows(report: Report, tz: str | None = None) -> list[list[str]]:
    """The CSV export read back with the csv module (BOM checked and removed)."""
    exported = csvout.text(afteraction.csv_rows(report, tz))
    assert exported.encode("utf-8").startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(exported.removeprefix("\ufeff"))))


def test_csv_has_header_block_then_levels(typhoon: Store) -> None:
    """The header block names the period, in English and Chinese, times in the city's zone."""
    rows = csv_rows(report_of(typhoon, period_id(typhoon), at(2000)), "Asia/Shanghai")
    header = dict(row for row in rows[:9])
    assert header["hazard/灾种"] == "typhoon"
    assert header["start/开始"] == "2026-11-23 09:00:00+08:00"
    assert header["end/结束"] == "2026-11-23 19:00:00+08:00"
    assert header["note/说明"] == "台风“山竹”橙色预警"
    levels = rows.index(list(afteraction.LEVEL_COLUMNS))
    assert rows[levels + 1 : levels + 3] == [
        ["orange", "typhoon", "2026-11-23 09:00:00+08:00", "2026-11-23 10:00:00+08:00"],
        ["red", "typhoon", "2026-11-23 10:00:00+08:00", "2026-11-23 19:00:00+08:00"],
    ]


def test_csv_has_one_row_per_department_then_totals(typhoon: Store) -> None:
    """Department rows carry the figures (rate in %, hours to 2 places); totals last."""
    rows = csv_rows(report_of(typhoon, period_id(typhoon), at(2000)))
    table = rows.index(list(afteraction.UNIT_COLUMNS))
    assert rows[table][0] == "department/责任单位"
    assert rows[table + 1 :] == [
        ["gardens", "3", "2", "1", "1", "1", "33.33", "4.50"],
        ["drainage", "2", "1", "1", "1", "0", "100.00", "2.25"],
        ["total/合计", "5", "3", "2", "2", "1", "50.00", "3.38"],
    ]


def test_csv_leaves_empty_cells_for_no_end_and_no_rate(store: Store) -> None:
    """An active period has no end; a unit with nothing judged has no rate or hours."""
    apply(store, [signal("orange", 0), *dispatched("R1", "event", "0110", 10, "gardens")])
    rows = csv_rows(report_of(store, period_id(store), at(30)))
    assert dict(rows[:9])["end/结束"] == ""
    assert rows[-1] == ["total/合计", "1", "0", "0", "1", "0", "", ""]


def test_csv_defuses_notes_excel_would_run_as_formulas(store: Store) -> None:
    """A note from the feed starting with '=' is written as text, not a formula."""
    apply(store, [signal("orange", 0, note='=HYPERLINK("http://x")'), cleared(10)])
    rows = csv_rows(report_of(store, period_id(store), at(30)))
    assert dict(rows[:9])["note/说明"] == '\'=HYPERLINK("http://x")'


@pytest.mark.postgres
def test_postgresql_gives_the_same_report(typhoon: Store, postgres_store: Store) -> None:
    """The typhoon's report and period list agree between SQLite and PostgreSQL."""
    apply(postgres_store, typhoon_events())
    pg, lite = (report_of(s, period_id(s), at(2000)).as_dict() for s in (postgres_store, typhoon))
    assert pg == lite | {"id": pg["id"]}
    with postgres_store.sessions() as on_pg, typhoon.sessions() as on_lite:
        listed = [afteraction.periods(session)[0] for session in (on_pg, on_lite)]
    assert listed[0] == listed[1] | {"id": listed[0]["id"]}
