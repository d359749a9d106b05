"""Months that never move: a past month's figures are the same whatever comes later.

The figures judge each case as it stood at the period's end (its latest version
before it), so returns, resumptions, rework, extensions and supervision that come
after the month cannot change it (issue 13).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.store import kpis
from dashboard.store.batch import Store
from dashboard.store.kpis import Period
from streams.consumer import Item
from streams.producer import new_event
from streams.schema import validate
from tests.stories import story

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
YEAR = 2025
LATER = datetime(2026, 6, 1, tzinfo=UTC)  # judged long after: each month at its end
UNITS = ("sanitation", "gardens", "enforcement", "drainage")
DISTRICTS = ("440402", "440403", "440404")
Event = dict[str, Any]


def months() -> list[Period]:
    """The twelve months of the generated year."""
    return [Period.month_of(datetime(YEAR, m, 15, tzinfo=SH), TZ) for m in range(1, 13)]


def case_story(rng: random.Random, n: int) -> list[Event]:
    """One case dispatched somewhere in the year, then a random walk of the workflow."""
    case_id = f"Y{n:04d}"
    t = datetime(YEAR, 1, 1, 8, tzinfo=SH) + timedelta(hours=rng.uniform(0, 360 * 24))
    events = story(case_id, t, rng.choice(UNITS), district=rng.choice(DISTRICTS))

    def later(hours: float) -> datetime:
        nonlocal t
        t += timedelta(hours=rng.uniform(0.1, hours))
        return t

    state = "dispatched"
    for _ in range(rng.randint(0, 6)):
        choice = rng.random()
        if state == "dispatched" and choice < 0.15:
            events.append(new_event("case.returned", case_id, later(30)))
            events.append(new_event("case.dispatched", case_id, later(30),
                                    department=rng.choice(UNITS)))  # fmt: skip
        elif state == "dispatched" and choice < 0.3:
            events.append(new_event("case.extended", case_id, later(50), hours=rng.choice([4, 8])))
        elif state == "dispatched" and choice < 0.45:
            # Suspensions of up to 40 days: many span a month's end.
            events.append(new_event("case.suspended", case_id, later(100)))
            events.append(new_event("case.resumed", case_id, later(40 * 24)))
        elif choice < 0.55:
            events.append(new_event("case.supervised", case_id, later(50), by="mayor"))
        elif state == "dispatched":
            events.append(new_event("case.handled", case_id, later(100)))
            state = "handled"
        elif state == "handled":
            passed = rng.random() < 0.6
            events.append(new_event("case.verified", case_id, later(30), passed=passed))
            state = "verifying" if passed else "dispatched"  # 返工: back to the department
        elif state == "verifying":
            events.append(new_event("case.closed", case_id, later(30)))
            break
    return events


def year_of_cases(seed: int, count: int) -> list[Event]:
    """Every event of a generated year, in time order (each case's own order kept)."""
    rng = random.Random(seed)
    events = [e for n in range(count) for e in case_story(rng, n)]
    return sorted(events, key=lambda e: datetime.fromisoformat(e["at"]))


def apply(store: Store, events: list[Event]) -> None:
    items = [Item(f"{n}-0", validate(e)) for n, e in enumerate(events)]
    result = store.apply_batch(items)
    assert not result.rejected, [r.reason for r in result.rejected]


def month_figures(store: Store, month: Period) -> Any:
    """Everything published for a month: figures by each grouping and both rankings."""
    with store.sessions() as session:
        return (
            [row.as_dict() for by in (None, "department", "district", "street")
             for row in kpis.figures(session, month, by, LATER)],  # type: ignore[arg-type]
            [r.as_dict() for r in kpis.ranking(session, month, "department", LATER)],
            [r.as_dict() for r in kpis.ranking(session, month, "district", LATER)],
        )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_past_month_is_the_same_after_the_following_months(store: Store, seed: int) -> None:
    """A generated year: each month's figures and rankings, taken right after the month,
    are identical once every later event is in."""
    events = year_of_cases(seed, 250)
    at_the_time, done = {}, 0
    for month in months():
        upto = [e for e in events if datetime.fromisoformat(e["at"]) < month.end]
        apply(store, upto[done:])
        done = len(upto)
        at_the_time[month] = month_figures(store, month)
    apply(store, events[done:])
    assert any(f[1] for f in at_the_time.values()), "the year ranked nobody"
    for month, figures in at_the_time.items():
        assert month_figures(store, month) == figures, month


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6))
def test_a_past_month_never_moves_for_any_generated_story(store: Store, seed: int) -> None:
    """Hypothesis picks the year: November, taken on 1 December, stays as it was."""
    events = [
        {**e, "event_id": f"{seed}-{e['event_id']}", "case_id": f"{seed}-{e['case_id']}"}
        for e in year_of_cases(seed, 60)
    ]
    november = months()[10]
    upto = [e for e in events if datetime.fromisoformat(e["at"]) < november.end]
    apply(store, upto)
    before = month_figures(store, november)
    apply(store, events[len(upto) :])
    assert month_figures(store, november) == before


# --- deferred cases and a month's end --------------------------------------------------


def nov(day: int, hour: int) -> datetime:
    return datetime(YEAR, 11, day, hour, tzinfo=SH)


def test_a_suspension_over_the_months_end_leaves_the_denominators_of_that_month(
    store: Store,
) -> None:
    """Suspended 25 Nov, due 25 Nov, resumed 5 Dec: deferred in November, before and
    after the resumption arrives; a case dispatched beside it counts as overdue."""
    apply(store, [*story("D1", nov(25, 9)), *story("D2", nov(25, 9))])
    apply(store, [new_event("case.suspended", "D1", nov(25, 10))])
    with store.sessions() as session:
        before = kpis.figures(session, months()[10], None, LATER)[0]
    assert (before.dispatched, before.deferred, before.due_to_close) == (2, 1, 1)
    assert before.overdue_pending == 1  # D2 only
    apply(store, [new_event("case.resumed", "D1", datetime(YEAR, 12, 5, 9, tzinfo=SH))])
    with store.sessions() as session:
        after = kpis.figures(session, months()[10], None, LATER)[0]
    assert after == before


@pytest.mark.postgres
def test_postgresql_keeps_past_months_the_same_way(postgres_store: Store) -> None:
    """The generated year on PostgreSQL: each month taken at its end stays the same."""
    events = year_of_cases(7, 120)
    at_the_time, done = {}, 0
    for month in months():
        upto = [e for e in events if datetime.fromisoformat(e["at"]) < month.end]
        apply(postgres_store, upto[done:])
        done = len(upto)
        at_the_time[month] = month_figures(postgres_store, month)
    apply(postgres_store, events[done:])
    for month, figures in at_the_time.items():
        assert month_figures(postgres_store, month) == figures, month


def test_a_store_from_before_versions_keeps_its_past_figures(store: Store) -> None:
    """A store whose cases have no versions gets one each at start-up; March's figures
    are those the columns gave before versions existed."""
    from sqlalchemy import delete

    from dashboard.store.db import init_db
    from dashboard.store.models import CaseVersion
    from tests.test_kpis import MARCH, NOW, march_events
    from tests.test_kpis import apply as apply_march

    apply_march(store, march_events())
    with store.sessions() as session:
        expected = [row.as_dict() for row in kpis.figures(session, MARCH, "department", NOW)]
    with store.sessions.begin() as session:
        session.execute(delete(CaseVersion))
    init_db(store.engine)
    with store.sessions() as session:
        assert [
            row.as_dict() for row in kpis.figures(session, MARCH, "department", NOW)
        ] == expected
