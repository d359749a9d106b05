"""The last 30 days' figures and what a leader drills into, over the hand-worked month.

The fixture is tests/test_kpis.py's March 2026, read at 10:00 on 1 April: the new
month has nothing due yet, the window (2 March 10:00 to now) has plenty.
"""

from __future__ import annotations

from dashboard.store import drill, kpis, rolling
from dashboard.store.batch import Store
from dashboard.store.figures import kpi_strip
from tests.test_kpis import TZ, apply, at, march_events

FIRST_OF_APRIL = at(1, 10, month=4)


def march(store: Store) -> Store:
    """The store holding the fixture month."""
    apply(store, march_events())
    return store


def test_the_month_has_no_rate_on_its_first_day_but_the_window_has(store: Store) -> None:
    """On 1 April the month's rates are None; the last 30 days' are worked by hand."""
    with march(store).sessions() as session:
        month = kpis.month_rates(session, FIRST_OF_APRIL, TZ)
        window = rolling.rates(session, FIRST_OF_APRIL)
    assert month == (None, None)
    # Due to close, weighted (supervised ×2): S2·2 S3 S4 S7 G1 G2 G3·2 G4 E1·2 E2 E4 D1 = 15;
    # closed: S2·2 S4 S7 G1 G2 E1·2 E2 D1 = 10; on time: S4 S7 G1 E1·2 E2 D1 = 7.
    assert window == (10 / 15, 7 / 15)


def test_the_kpi_strip_carries_the_window_beside_the_month(store: Store) -> None:
    """Screens get closure_rate_30d and on_time_rate_30d with the month's rates."""
    with march(store).sessions() as session:
        strip = kpi_strip(session, FIRST_OF_APRIL, TZ)
    assert (strip["closure_rate"], strip["on_time_rate"]) == (None, None)
    assert (strip["closure_rate_30d"], strip["on_time_rate_30d"]) == (10 / 15, 7 / 15)


def test_a_units_trend_counts_each_day_in_the_citys_zone(store: Store) -> None:
    """Sanitation's 30 days end today; on 3 March S2 came and closed late, and so did F1
    (dispatched in February): a day's closures are by when they closed."""
    with march(store).sessions() as session:
        days = rolling.daily(session, "department", "sanitation", FIRST_OF_APRIL, TZ)
    assert len(days) == 30 and (days[0].day, days[-1].day) == ("2026-03-03", "2026-04-01")
    assert (days[0].dispatched, days[0].closed, days[0].closed_late) == (1, 2, 2)
    assert days[-1].dispatched == 1  # A1 at 07:30, still 31 March in UTC
    assert sum(day.dispatched for day in days) == 7  # S2-S7 and A1, not S1 (2 March)


def test_a_units_open_cases_are_sorted_by_light(store: Store) -> None:
    """Sanitation on 1 April: S3 red, S6 and A1 green, S5 suspended without a light."""
    with march(store).sessions() as session:
        found = drill.open_by_light(session, "department", "sanitation", FIRST_OF_APRIL)
        ids = {light: [c.case_id for c in cases] for light, cases in found.cases.items()}
    assert found.counts == {"red": 1, "yellow": 0, "green": 2, "none": 1}
    assert ids == {"red": ["S3"], "yellow": [], "green": ["A1", "S6"], "none": ["S5"]}


def test_the_worst_overdue_come_longest_overdue_first(store: Store) -> None:
    """Open running cases past their deadline, the oldest deadline first."""
    with march(store).sessions() as session:
        worst = [c.case_id for c in drill.worst_overdue(session, FIRST_OF_APRIL, limit=3)]
    assert worst == ["S3", "E4", "G3"]
