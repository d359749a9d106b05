"""Evaluation figures, rankings and boards over a hand-worked month of cases.

The fixture is March 2026 in Zhuhai (Asia/Shanghai), judged on 10 April: sixteen
dispatched cases over four departments and three districts, three reports that never
reach a department, and two cases just outside the month. Every expected value below
is worked by hand from the definitions in dashboard/kpis.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.store import kpis
from dashboard.store.batch import Store
from dashboard.store.kpis import Figures, Period
from streams.consumer import Item
from streams.producer import new_event
from streams.schema import validate

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)

# (kind, category): exposed garbage and dirty road go to sanitation, piled materials
# to enforcement, street trees and lamps to gardens, rain grates to drainage.
GARBAGE, ROAD, PILED = ("event", "0102"), ("event", "0104"), ("event", "0111")
TREE, LAMP, GRATE = ("component", "0402"), ("component", "0118"), ("component", "0104")
# (district, street): Xiangzhou's Gongbei and Jida, Doumen's Jing'an, Jinwan's Sanzao.
XZ1, XZ2 = ("440402", "440402001"), ("440402", "440402002")
DM, JW = ("440403", "440403100"), ("440404", "440404100")

Event = dict[str, Any]
Step = tuple[str, float, dict[str, Any]]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A local Zhuhai time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


MARCH = Period.month_of(at(15, 12), TZ)
NOW = at(10, 12, month=4)


def step(type: str, after: float, **fields: Any) -> Step:
    """An event `after` hours after the case's first dispatch."""
    return (type, after, fields)


def done(handled: float) -> list[Step]:
    """Handled `handled` hours after dispatch and closed an hour later."""
    return [step("case.handled", handled), step("case.closed", handled + 1)]


def supervised(after: float) -> Step:
    """A leader's 督办."""
    return step("case.supervised", after, by="mayor")


def report(
    case_id: str, when: datetime, where: tuple[str, str], source: str, what: tuple[str, str]
) -> Event:
    """A contract-v1 report of a case in a district and street."""
    (district, street), (kind, category) = where, what
    return new_event(
        "case.reported", case_id, when, source=source, kind=kind, category=category,
        lon=113.55, lat=22.25, district=district, street=street,
    )  # fmt: skip


def story(
    case_id: str,
    dispatched: datetime,
    department: str,
    limit: float,
    where: tuple[str, str],
    source: str = "inspector",
    what: tuple[str, str] = GARBAGE,
    then: list[Step] | None = None,
) -> list[Event]:
    """A case reported 10 and filed 5 minutes before its dispatch, then `then`.

    The deadline (`limit` hours on) is stated in the dispatch, as the contract allows,
    so that the sums below do not depend on the working calendar.
    """
    deadline = dispatched + timedelta(hours=limit)
    events = [
        report(case_id, dispatched - timedelta(minutes=10), where, source, what),
        new_event("case.filed", case_id, dispatched - timedelta(minutes=5)),
        new_event("case.dispatched", case_id, dispatched, department=department, deadline=deadline),
    ]
    for type, after, fields in then or []:
        events.append(new_event(type, case_id, dispatched + timedelta(hours=after), **fields))
    return events


# The fixture month, laid out by hand: one case a line, how it must count beside it.
# fmt: off
def march_events() -> list[Event]:
    """Every event of the fixture month, in order."""
    return [
        # sanitation
        *story("S1", at(2, 9, 10), "sanitation", 4, XZ1, then=done(2)),  # on time, 2 h
        *story("S2", at(3, 9, 10), "sanitation", 5, XZ1, "citizen", ROAD,
               then=[supervised(1), *done(7)]),  # supervised (weighs 2), late, 7 h
        *story("S3", at(5, 10, 10), "sanitation", 4, XZ2, "hotline",
               then=[step("case.urged", 5, by="centre")]),  # overdue, never handled
        *story("S4", at(10, 9, 10), "sanitation", 4, DM,
               then=[step("case.handled", 1), step("case.verified", 2, passed=False),
                     step("case.handled", 3), step("case.closed", 3.5)]),  # 返工; on time, 3 h
        *story("S5", at(12, 9, 10), "sanitation", 5, DM, "video", ROAD,
               then=[step("case.suspended", 1)]),  # 挂账 since 12 March: deferred
        *story("S6", at(31, 23, 30), "sanitation", 20, XZ1),  # 23:30 on the 31st, due 1 April
        *story("S7", at(16, 9, 10), "sanitation", 4, XZ2,
               then=[step("case.extended", 3, hours=24), *done(6)]),  # 延期; on time, 6 h
        # gardens
        *story("G1", at(4, 10), "gardens", 48, JW, what=TREE, then=done(30)),  # on time, 30 h
        *story("G2", at(6, 10), "gardens", 24, JW, "citizen", LAMP, then=done(40)),  # late, 40 h
        *story("G3", at(20, 10), "gardens", 48, DM, "hotline", TREE,
               then=[supervised(1)]),  # supervised, overdue, never handled
        *story("G4", at(25, 10), "gardens", 24, XZ2, what=LAMP,
               then=[step("case.handled", 10), step("case.verified", 11, passed=True),
                     step("case.closed", 192)]),  # handled in time (10 h), closed 2 April
        # enforcement
        *story("E1", at(9, 10), "enforcement", 48, XZ1, "media", PILED,
               then=[supervised(2), *done(20)]),  # supervised, on time, 20 h
        *story("E2", at(11, 9), "gardens", 48, JW, "media", PILED,
               then=[step("case.returned", 1),  # 回退: the wrong department
                     step("case.dispatched", 1.5, department="enforcement",
                          deadline=at(13, 10, 30)),
                     *done(6.5)]),  # enforcement's: on time, 5 h from its dispatch
        *story("E3", at(14, 10), "enforcement", 48, DM, "citizen", PILED,
               then=[step("case.returned", 1)]),  # returned and waiting: nobody's
        *story("E4", at(18, 10), "enforcement", 48, XZ1, what=PILED,
               then=[step("case.handled", 50),
                     step("case.verified", 51, passed=True)]),  # handled late (50 h), open
        # drainage
        *story("D1", at(23, 9, 10), "drainage", 24, JW, "video", GRATE, then=done(4)),  # 4 h
        # reports that never reach a department count only by source
        report("R1", at(8, 11), XZ1, "self", GARBAGE),  # 自查自纠: closed at once
        report("R2", at(15, 11), XZ1, "citizen", GARBAGE),
        new_event("case.rejected", "R2", at(15, 12)),
        report("R3", at(17, 11), DM, "hotline", GARBAGE),
        new_event("case.filed", "R3", at(17, 12)),
        new_event("case.voided", "R3", at(17, 13)),
        # outside March: dispatched in February (closed in March), and at 07:30 on
        # 1 April in Zhuhai, which is still 31 March in UTC
        *story("F1", at(27, 10, month=2), "sanitation", 4, XZ1, then=done(96)),
        *story("A1", at(1, 7, 30, month=4), "sanitation", 4, XZ1),
    ]
# fmt: on


def later_events() -> list[Event]:
    """What arrives in April: March cases handled and closed late, new April cases."""
    april = [
        ("S6", "case.handled", 1), ("S6", "case.closed", 1), ("S3", "case.handled", 3),
        ("S3", "case.closed", 3), ("G3", "case.handled", 4), ("G3", "case.closed", 4),
        ("E4", "case.closed", 2), ("A1", "case.handled", 5), ("A1", "case.closed", 5),
    ]  # fmt: skip
    return [
        *(new_event(type, case_id, at(day, 10, month=4)) for case_id, type, day in april),
        new_event("case.urged", "S5", at(6, 9, month=4), by="centre"),
        *story("N1", at(12, 9, month=4), "sanitation", 4, XZ1, then=done(1)),
        *story("N2", at(13, 9, month=4), "gardens", 24, JW, what=TREE),
    ]


def apply(store: Store, events: list[Event]) -> None:
    """Apply events through the real workflow; every one must be accepted."""
    result = store.apply_batch([Item(f"{n}-0", validate(e)) for n, e in enumerate(events)])
    assert not result.rejected, [r.reason for r in result.rejected]


@pytest.fixture
def march(store: Store) -> Store:
    """The store holding the fixture month."""
    apply(store, march_events())
    return store


def figures(store: Store, period: Period, by: Any = None, now: datetime = NOW) -> list[Figures]:
    """Figures read in a fresh session."""
    with store.sessions() as session:
        return kpis.figures(session, period, by, now)


def by_code(rows: list[Figures]) -> dict[str | None, Figures]:
    """Rows keyed by group code."""
    return {row.code: row for row in rows}


# Hand-worked department figures for March, judged at J = 1 April 00:00.
# weighted_* count a supervised case twice; rates use them for closure and on time.
SANITATION = dict(
    dispatched=7,  # S1-S7
    deferred=1,  # S5
    due_to_close=5,  # S1 S2 S3 S4 S7 (S6 not due, S5 deferred)
    closed=4,  # S1 S2 S4 S7
    closed_on_time=3,  # S1 S4 S7
    weighted_due_to_close=6,  # 5 + S2 again
    weighted_closed=5,  # 4 + S2 again
    weighted_on_time=3,
    closure_rate=5 / 6,
    on_time_rate=3 / 6,
    due_to_handle=5,  # the same five
    handled=4,
    handling_rate=4 / 5,
    reworked=1,  # S4
    rework_rate=1 / 5,
    overdue_pending=1,  # S3
    overdue_pending_rate=1 / 5,
    extended=1,  # S7
    extension_rate=1 / 5,
    handling_hours={"component": None, "event": (2 + 7 + 3 + 6) / 4},  # 4.5
)
GARDENS = dict(
    dispatched=4,  # G1-G4 (E2 went to enforcement after its return)
    deferred=0,
    due_to_close=4,  # all past their deadlines
    closed=2,  # G1 G2 (G4 closed on 2 April)
    closed_on_time=1,  # G1
    weighted_due_to_close=5,  # G3 supervised
    weighted_closed=2,
    weighted_on_time=1,
    closure_rate=2 / 5,
    on_time_rate=1 / 5,
    due_to_handle=4,
    handled=3,  # G1 G2 G4
    handling_rate=3 / 4,
    reworked=0,
    rework_rate=0.0,
    overdue_pending=1,  # G3
    overdue_pending_rate=1 / 4,
    extended=0,
    extension_rate=0.0,
    handling_hours={"component": (30 + 40 + 10) / 3, "event": None},  # 26.67
)
ENFORCEMENT = dict(
    dispatched=3,  # E1 E2 E4 (E3 returned, waiting)
    deferred=0,
    due_to_close=3,
    closed=2,  # E1 E2
    closed_on_time=2,
    weighted_due_to_close=4,  # E1 supervised
    weighted_closed=3,
    weighted_on_time=3,
    closure_rate=3 / 4,
    on_time_rate=3 / 4,
    due_to_handle=3,
    handled=3,  # E4 handled late, but handled
    handling_rate=1.0,
    reworked=0,
    rework_rate=0.0,
    overdue_pending=0,
    overdue_pending_rate=0.0,
    extended=0,
    extension_rate=0.0,
    handling_hours={"component": None, "event": (20 + 5 + 50) / 3},  # 25
)


def check(row: Figures, expected: dict[str, Any]) -> None:
    """Each expected field equals the row's, floats to within 1e-9."""
    actual = {name: getattr(row, name) for name in expected}
    assert rounded(actual) == rounded(expected)


def rounded(value: Any) -> Any:
    """`value` with every float rounded to 9 places, through dicts and lists."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


@pytest.mark.parametrize(
    ("department", "expected"),
    [("sanitation", SANITATION), ("gardens", GARDENS), ("enforcement", ENFORCEMENT)],
)
def test_department_figures_match_the_hand_worked_month(
    march: Store, department: str, expected: dict[str, Any]
) -> None:
    """Every KPI of each department equals the sums worked by hand."""
    check(by_code(figures(march, MARCH, "department"))[department], expected)


def test_supervised_case_weighs_double_in_closure_rates_only(march: Store) -> None:
    """S2 (supervised, late) counts twice for closure and on time, once elsewhere."""
    row = by_code(figures(march, MARCH, "department"))["sanitation"]
    assert (row.due_to_close, row.weighted_due_to_close) == (5, 6)
    assert row.on_time_rate == 3 / 6 and row.handling_rate == 4 / 5


def test_suspended_case_leaves_every_denominator(march: Store) -> None:
    """S5, suspended since 12 March, is counted as deferred and nowhere else."""
    row = by_code(figures(march, MARCH, "department"))["sanitation"]
    # 7 dispatched = 5 due + S5 deferred + S6 not yet due
    assert (row.dispatched, row.deferred, row.due_to_close, row.due_to_handle) == (7, 1, 5, 5)


def test_case_resumed_before_the_end_counts_again(march: Store) -> None:
    """Resumed on 20 March, S5 is back in the denominators, overdue and unhandled."""
    apply(march, [new_event("case.resumed", "S5", at(20, 9))])
    row = by_code(figures(march, MARCH, "department"))["sanitation"]
    assert (row.deferred, row.due_to_close, row.overdue_pending) == (0, 6, 2)


def test_case_neither_done_nor_due_at_the_end_is_not_judged(march: Store) -> None:
    """S6, dispatched 23:30 on 31 March and due on 1 April, is in no denominator."""
    row = by_code(figures(march, MARCH, "street"))["440402001"]
    # Gongbei: S1 S2 S6 E1 E4 dispatched; all but S6 due.
    assert (row.dispatched, row.due_to_close, row.due_to_handle) == (5, 4, 4)


def test_cohort_is_the_cases_dispatched_in_the_period(march: Store) -> None:
    """F1 (dispatched in February, closed in March) and A1 (1 April local) are out."""
    overall = figures(march, MARCH)[0]
    assert overall.code is None and overall.dispatched == 15


def test_closing_after_the_period_does_not_count_as_closed_in_it(march: Store) -> None:
    """G4 was handled in time but closed on 2 April: handled, not closed, in March."""
    row = by_code(figures(march, MARCH, "street"))["440402002"]
    # Jida: S3 (open), S7 (closed), G4 (closed in April).
    assert (row.due_to_close, row.closed, row.handled) == (3, 1, 2)


def test_returned_case_counts_for_the_department_it_ended_with(march: Store) -> None:
    """E2 counts for enforcement; E3, returned and waiting, for nobody."""
    rows = by_code(figures(march, MARCH, "department"))
    assert rows["enforcement"].dispatched == 3
    assert rows["enforcement"].handling_hours["event"] == pytest.approx(25.0)


def test_overall_figures(march: Store) -> None:
    """The whole city: the four departments added up."""
    check(
        figures(march, MARCH)[0],
        dict(
            dispatched=15,  # 7 + 4 + 3 + 1 (drainage: D1)
            deferred=1,
            due_to_close=13,  # 5 + 4 + 3 + 1
            weighted_due_to_close=16,  # 6 + 5 + 4 + 1
            weighted_closed=11,  # 5 + 2 + 3 + 1
            weighted_on_time=8,  # 3 + 1 + 3 + 1
            closure_rate=11 / 16,
            on_time_rate=8 / 16,
            handled=11,  # 4 + 3 + 3 + 1
            handling_rate=11 / 13,
            rework_rate=1 / 13,  # S4
            overdue_pending_rate=2 / 13,  # S3 G3
            extension_rate=1 / 13,  # S7
            # events: S1 2, S2 7, S4 3, S7 6, E1 20, E2 5, E4 50 = 93 h over 7
            # components: G1 30, G2 40, G4 10, D1 4 = 84 h over 4
            handling_hours={"component": 84 / 4, "event": 93 / 7},
        ),
    )


def test_counts_by_source_are_the_reports_of_the_period(march: Store) -> None:
    """19 reports in March, including the self-handled, rejected and voided ones."""
    overall = figures(march, MARCH)[0]
    assert overall.reported == 19
    assert overall.by_source == {
        "inspector": 7,  # S1 S4 S6 S7 G1 G4 E4
        "citizen": 4,  # S2 G2 E3 R2
        "hotline": 3,  # S3 G3 R3
        "video": 2,  # S5 D1
        "media": 2,  # E1 E2
        "self": 1,  # R1
    }
    sanitation = by_code(figures(march, MARCH, "department"))["sanitation"]
    assert sanitation.by_source["inspector"] == 4 and sanitation.reported == 7


def test_district_figures(march: Store) -> None:
    """Districts judge the cases in them, whichever department had them."""
    rows = by_code(figures(march, MARCH, "district"))
    assert set(rows) == {"440402", "440403", "440404"}
    # Xiangzhou: S1 S2 S3 S6 S7 G4 E1 E4; S6 not due; S2 and E1 supervised.
    check(
        rows["440402"],
        dict(
            dispatched=8,
            due_to_close=7,
            weighted_due_to_close=9,
            closure_rate=6 / 9,  # S1 + S2·2 + S7 + E1·2
            on_time_rate=4 / 9,  # S1 + S7 + E1·2
            handling_rate=6 / 7,  # all but S3
            rework_rate=0.0,
            overdue_pending_rate=1 / 7,  # S3
            extension_rate=1 / 7,  # S7
            handling_hours={"component": 10.0, "event": (2 + 7 + 6 + 20 + 50) / 5},
        ),
    )
    # Doumen: S4, S5 (deferred), G3 (supervised); E3 returned.
    check(
        rows["440403"],
        dict(
            dispatched=3,
            deferred=1,
            due_to_close=2,
            closure_rate=1 / 3,
            on_time_rate=1 / 3,
            handling_rate=1 / 2,
            rework_rate=1 / 2,
            overdue_pending_rate=1 / 2,
        ),
    )


def test_department_ranking(march: Store) -> None:
    """Scores = 40·on-time + 30·closure + 30·handling − 20·rework − 20·overdue."""
    with march.sessions() as session:
        ranked = kpis.ranking(session, MARCH, "department", NOW)
    assert [(r.rank, r.code, r.score, r.grade) for r in ranked] == [
        (1, "drainage", 100.0, "A"),  # 40 + 30 + 30
        (2, "enforcement", 82.5, "B"),  # 30 + 22.5 + 30
        (3, "sanitation", 61.0, "C"),  # 20 + 25 + 24 − 4 − 4
        (4, "gardens", 37.5, "E"),  # 8 + 12 + 22.5 − 5
    ]


def test_district_ranking(march: Store) -> None:
    """Jinwan scores exactly 90 and gets an A; Doumen is last."""
    with march.sessions() as session:
        ranked = kpis.ranking(session, MARCH, "district", NOW)
    assert [(r.rank, r.code, r.score, r.grade) for r in ranked] == [
        (1, "440404", 90.0, "A"),  # 40·3/4 + 30·1 + 30·1
        (2, "440402", 60.63, "C"),  # 40·4/9 + 30·6/9 + 30·6/7 − 20·1/7
        (3, "440403", 18.33, "E"),  # 40/3 + 30/3 + 15 − 10 − 10
    ]
    assert ranked[0].as_dict()["figures"]["code"] == "440404"


def test_equal_scores_share_a_rank(store: Store) -> None:
    """Two departments that closed everything on time both rank first."""
    apply(
        store,
        [
            *story("P1", at(2, 10), "water", 4, XZ1, then=done(1)),
            *story("P2", at(2, 10), "power", 4, XZ1, then=done(1)),
        ],
    )
    with store.sessions() as session:
        ranked = kpis.ranking(session, MARCH, "department", NOW)
    assert [(r.rank, r.code) for r in ranked] == [(1, "power"), (1, "water")]


@pytest.mark.parametrize(
    ("points", "letter"),
    [(100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (60, "C"), (40, "D"), (39.99, "E"), (0, "E")],
)
def test_grade_boundaries(points: float, letter: str) -> None:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below."""
    assert kpis.grade(points) == letter


def test_past_month_is_unchanged_by_later_events(march: Store) -> None:
    """Closing March cases in April and new April cases leave March's figures as they were."""
    before = {by: figures(march, MARCH, by) for by in (None, "department", "district", "street")}
    apply(march, later_events())
    later = at(20, 12, month=4)
    after = {by: figures(march, MARCH, by, later) for by in before}
    assert after == before


def test_running_period_is_judged_now(march: Store) -> None:
    """On 1 April at 12:00, S6 is due (19:30) neither handled: not yet judged; A1 is."""
    april = Period.parse("month", "2026-04", TZ)
    row = figures(march, april, now=at(1, 12, month=4))[0]
    # A1: dispatched 07:30, due 11:30, untouched: overdue and pending.
    assert (row.dispatched, row.due_to_handle, row.overdue_pending) == (1, 1, 1)


def test_day_week_and_range_periods_follow_local_time(march: Store) -> None:
    """23:30 on 31 March is March's; 07:30 on 1 April (still 31 March in UTC) is April's."""
    last_day = Period.parse("day", "2026-03-31", TZ)
    first_day = Period.day_of(at(1, 7, 30, month=4), TZ)
    week = Period.parse("week", "2026-W14", TZ)  # Monday 30 March to Sunday 5 April
    two_days = Period.parse("range", "2026-03-30/2026-03-31", TZ)
    dispatched = {
        name: figures(march, period)[0].dispatched
        for name, period in dict(last=last_day, first=first_day, week=week, two=two_days).items()
    }
    assert dispatched == {"last": 1, "first": 1, "week": 2, "two": 1}


def test_month_of_a_late_local_evening() -> None:
    """23:30 local on the last day of a month belongs to that month."""
    period = Period.month_of(at(31, 23, 30).astimezone(UTC), TZ)
    assert (period.start, period.end) == (at(1, 0), at(1, 0, month=4))


def test_week_of_starts_on_monday() -> None:
    """A Sunday belongs to the week that began the Monday before."""
    assert Period.week_of(at(5, 12, month=4), TZ) == Period.parse("week", "2026-03-30", TZ)
    assert Period.week_of(at(5, 12, month=4), TZ).start == at(30, 0)


def test_range_includes_both_days() -> None:
    """A range of two days runs from the first midnight to the third."""
    period = Period.parse("range", "2026-03-30/2026-03-31", TZ)
    assert (period.start, period.end) == (at(30, 0), at(1, 0, month=4))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("month", "2026-13"),
        ("month", "March"),
        ("range", "2026-03-02"),
        ("range", "2026-03-02/2026-03-01"),
        ("year", "2026"),
        ("week", "2026-W60"),
        ("day", "31/03/2026"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(kind: str, value: str) -> None:
    """The HTTP layer gets a ValueError naming the problem."""
    with pytest.raises(ValueError, match="period"):
        Period.parse(kind, value, TZ)


def boards_at(store: Store, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Board counts as (open, yellow, red) per department."""
    with store.sessions() as session:
        return {b.department: (b.open, b.yellow, b.red) for b in kpis.board_counts(session, now)}


def test_board_lights_turn_yellow_and_red(store: Store) -> None:
    """A 10-hour case is green at 7 h, yellow from 8 h (80%), red from 10 h."""
    apply(store, story("B1", at(2, 9), "sanitation", 10, XZ1))
    assert boards_at(store, at(2, 16)) == {"sanitation": (1, 0, 0)}
    assert boards_at(store, at(2, 17)) == {"sanitation": (1, 1, 0)}
    assert boards_at(store, at(2, 19)) == {"sanitation": (1, 0, 1)}


def test_board_leaves_suspended_cases_unlit(store: Store) -> None:
    """A suspended case is open but has no light, however late."""
    apply(store, story("B2", at(2, 9), "gardens", 2, XZ1, then=[step("case.suspended", 1)]))
    assert boards_at(store, at(9, 9)) == {"gardens": (1, 0, 0)}


def test_boards_of_the_fixture(march: Store) -> None:
    """On 10 April: open cases per department, the reddest first."""
    with march.sessions() as session:
        boards = kpis.board_counts(session, NOW)
    # sanitation: S3 S6 A1 red, S5 suspended; enforcement: E4 red (verifying),
    # E3 returned (no deadline); gardens: G3 red.
    assert [b.as_dict() for b in boards] == [
        {"department": "sanitation", "open": 4, "yellow": 0, "red": 3},
        {"department": "enforcement", "open": 2, "yellow": 0, "red": 1},
        {"department": "gardens", "open": 1, "yellow": 0, "red": 1},
    ]


def test_strip_shows_today_and_the_month(march: Store) -> None:
    """At 23:55 on 31 March: S6 came in today; March's rates as judged then."""
    with march.sessions() as session:
        strip = kpis.strip(session, at(31, 23, 55), TZ).as_dict()
    assert strip == {
        "reported": 1,
        "filed": 1,
        "dispatched": 1,
        "closed": 0,
        "closure_rate": 11 / 16,
        "on_time_rate": 8 / 16,
    }


def test_strip_takes_the_month_rates_it_is_given(march: Store) -> None:
    """A caller that keeps the month's rates passes them in; today's counts are fresh."""
    with march.sessions() as session:
        rates = kpis.month_rates(session, at(31, 23, 55), TZ)
        strip = kpis.strip(session, at(31, 23, 55), TZ, rates=(0.5, 0.25))
    assert rates == (11 / 16, 8 / 16)
    assert (strip.reported, strip.closure_rate, strip.on_time_rate) == (1, 0.5, 0.25)


@pytest.mark.postgres
def test_postgresql_gives_the_same_figures(march: Store, postgres_store: Store) -> None:
    """The fixture month's figures and rankings agree between SQLite and PostgreSQL."""
    apply(postgres_store, march_events())
    for by in (None, "department", "district", "street"):
        on_postgres = [row.as_dict() for row in figures(postgres_store, MARCH, by)]
        on_sqlite = [row.as_dict() for row in figures(march, MARCH, by)]
        assert rounded(on_postgres) == rounded(on_sqlite)
    with postgres_store.sessions() as pg, march.sessions() as lite:
        ranks = [
            [(r.rank, r.code, r.score) for r in kpis.ranking(s, MARCH, "district", NOW)]
            for s in (pg, lite)
        ]
        assert ranks[0] == ranks[1]
        assert kpis.board_counts(pg, NOW) == kpis.board_counts(lite, NOW)
