"""The national workflow: every transition, and the reasons for impossible ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain import lifecycle
from dashboard.domain.lifecycle import Rules, TransitionError
from dashboard.store.models import Case
from streams.names import SignalLevel
from streams.producer import new_event
from streams.schema import Event, validate

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00 in Shanghai: an ordinary working day.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


def ev(type: str, minutes: float = 0, case_id: str = "C1", **fields: Any) -> Event:
    """A validated event `minutes` after Monday 09:00."""
    return validate(new_event(type, case_id, MONDAY_9 + timedelta(minutes=minutes), **fields))


def report(**fields: Any) -> Event:
    """A report of exposed garbage (event 0102: 4 working hours, sanitation)."""
    body = {"source": "inspector", "kind": "event", "category": "0102", "lon": 113.5, "lat": 22.2}
    return ev("case.reported", **{**body, **fields})


def run(rules: Rules, *events: Event) -> Case:
    """Fold events into a case."""
    case = lifecycle.rebuild(events, rules, Case)
    assert case is not None
    return case


def dispatched(rules: Rules) -> list[Event]:
    """A case reported at 09:00, filed at 09:05 and dispatched at 09:10."""
    return [report(), ev("case.filed", 5), ev("case.dispatched", 10, department="sanitation")]


def test_dispatch_starts_the_clock_in_working_time(rules: Rules) -> None:
    """4 working hours from Monday 09:10 end at 15:40 (09:10–12:00 is 2h50, +1h10)."""
    case = run(rules, *dispatched(rules))
    assert case.state == "dispatched" and case.department == "sanitation"
    assert case.deadline == datetime(2026, 11, 23, 15, 40, tzinfo=SH)


def test_stated_deadline_wins(rules: Rules) -> None:
    """A producer's deadline is kept; yellow starts at 80% of the span."""
    deadline = MONDAY_9 + timedelta(hours=10, minutes=10)
    events = dispatched(rules)[:2] + [
        ev("case.dispatched", 10, department="sanitation", deadline=deadline.isoformat())
    ]
    case = run(rules, *events)
    assert case.deadline == deadline and case.warn_at == MONDAY_9 + timedelta(hours=8, minutes=10)


def test_urgency_shortens_the_limit(rules: Rules) -> None:
    """Urgent exposed garbage gets 2 working hours: 09:10 → 11:10."""
    case = run(
        rules,
        report(urgency="urgent"),
        ev("case.filed", 5),
        ev("case.dispatched", 10, department="sanitation"),
    )
    assert case.deadline == datetime(2026, 11, 23, 11, 10, tzinfo=SH)


def test_full_happy_path_closes_on_time(rules: Rules) -> None:
    """Handled, verified and closed before the deadline counts as on time."""
    case = run(
        rules,
        *dispatched(rules),
        ev("case.handled", 60),
        ev("case.verified", 90, passed=True),
        ev("case.closed", 100),
    )
    assert case.state == "closed" and case.closed_on_time is True


def test_handled_after_deadline_closes_late(rules: Rules) -> None:
    """Handling after the deadline makes the closure late."""
    case = run(
        rules,
        *dispatched(rules),
        ev("case.handled", 60 * 8),
        ev("case.verified", 60 * 8 + 5, passed=True),
        ev("case.closed", 60 * 8 + 10),
    )
    assert case.closed_on_time is False


def test_failed_verification_is_rework_with_the_same_clock(rules: Rules) -> None:
    """返工 goes back to the same department; the deadline stays."""
    before = run(rules, *dispatched(rules))
    case = run(
        rules, *dispatched(rules), ev("case.handled", 60), ev("case.verified", 90, passed=False)
    )
    assert case.state == "dispatched" and case.reworks == 1
    assert case.department == "sanitation" and case.deadline == before.deadline


def test_return_then_redispatch_restarts_with_new_department(rules: Rules) -> None:
    """回退 waits for dispatch again; the new department gets a fresh clock."""
    case = run(
        rules,
        *dispatched(rules),
        ev("case.returned", 30),
        ev("case.dispatched", 40, department="enforcement"),
    )
    assert case.department == "enforcement" and case.returns == 1
    assert case.deadline == datetime(2026, 11, 23, 16, 10, tzinfo=SH)


def test_extension_adds_working_hours(rules: Rules) -> None:
    """延期 of 2 hours moves 15:40 to 17:40 (still office hours)."""
    case = run(rules, *dispatched(rules), ev("case.extended", 20, hours=2))
    assert case.deadline == datetime(2026, 11, 23, 17, 40, tzinfo=SH) and case.extensions == 1


def test_suspension_stops_the_clock(rules: Rules) -> None:
    """挂账 from 10:00 to 11:00 pushes the deadline back one working hour."""
    case = run(rules, *dispatched(rules), ev("case.suspended", 60), ev("case.resumed", 120))
    assert case.state == "dispatched"
    assert case.deadline == datetime(2026, 11, 23, 16, 40, tzinfo=SH)


def test_self_handled_report_closes_at_once(rules: Rules) -> None:
    """自查自纠: reported and closed in one step."""
    case = run(rules, report(source="self"))
    assert case.state == "closed" and case.closed_on_time is True


def test_urging_and_supervision_are_counted(rules: Rules) -> None:
    """催办 and 督办 are recorded at any open state."""
    case = run(
        rules, report(), ev("case.urged", 1, by="duty"), ev("case.supervised", 2, by="mayor")
    )
    assert case.urges == 1 and case.supervised is True and case.state == "reported"


def test_reject_and_void(rules: Rules) -> None:
    """不予立案 from reported; 作废 from filed."""
    assert run(rules, report(), ev("case.rejected", 1)).state == "rejected"
    assert run(rules, report(), ev("case.filed", 1), ev("case.voided", 2)).state == "voided"


@pytest.mark.parametrize(
    ("events", "words"),
    [
        (["case.closed"], "case.closed is impossible for case C1 in state reported"),
        (["case.filed", "case.handled"], "case.handled is impossible"),
        (["case.filed", "case.resumed"], "case.resumed is impossible"),
        (["case.rejected", "case.urged"], "case.urged is impossible for case C1 in state rejected"),
    ],
)
def test_impossible_transitions_say_why(rules: Rules, events: list[str], words: str) -> None:
    """An event the state does not allow is refused with state and allowed ones."""
    folded = [report()] + [ev(t, i + 1, by="x") for i, t in enumerate(events)]
    with pytest.raises(TransitionError, match=words):
        run(rules, *folded)


def test_anything_after_closure_is_refused(rules: Rules) -> None:
    """A closed case takes no more events."""
    with pytest.raises(TransitionError, match="in state closed"):
        run(rules, report(source="self"), ev("case.filed", 1))


def test_unknown_case_is_refused(rules: Rules) -> None:
    """An event for a case never reported is refused."""
    with pytest.raises(TransitionError, match="unknown case C1"):
        lifecycle.apply(None, ev("case.filed"), rules)


def test_second_report_is_refused(rules: Rules) -> None:
    """A case id is reported once."""
    with pytest.raises(TransitionError, match="already reported"):
        run(rules, report(), report())


def test_unknown_category_and_department_are_refused(rules: Rules) -> None:
    """Codes outside the city's catalogue are refused, naming the code."""
    with pytest.raises(TransitionError, match="event 0999 is not in the city's catalogue"):
        run(rules, report(category="0999"))
    with pytest.raises(TransitionError, match="'nobody' is not a responsible unit"):
        run(rules, report(), ev("case.filed", 1), ev("case.dispatched", 2, department="nobody"))


def test_state_rebuilds_from_stored_history(rules: Rules, store) -> None:
    """The stored case equals the case derived again from its history."""
    from streams.consumer import Item
    from streams.schema import parse_entry

    events = [
        *dispatched(rules),
        ev("case.extended", 20, hours=1),
        ev("case.suspended", 30),
        ev("case.resumed", 90),
        ev("case.urged", 95, by="duty"),
    ]
    store.apply_batch([Item(str(i), e) for i, e in enumerate(events)])
    history = [parse_entry({"event": row.payload}) for row in store.history("C1")]
    rebuilt, stored = lifecycle.rebuild(history, rules, Case), store.case("C1")
    assert rebuilt is not None and stored is not None
    columns = [c.key for c in Case.__table__.columns]
    assert {c: getattr(rebuilt, c) for c in columns} == {c: getattr(stored, c) for c in columns}


def test_a_report_with_only_a_position_counts_in_its_district(rules: Rules) -> None:
    """The server places a case reported with lon/lat only (rankings, map shading)."""
    case = run(rules, report(lon=113.55, lat=22.25))
    assert (case.district, case.street, case.grid) == ("440402", None, None)


def test_flagging_marks_an_emergency_case_without_moving_its_clock(rules: Rules) -> None:
    """Flagged outside emergency mode: marked, same deadline (its next dispatch is capped)."""
    before = run(rules, *dispatched(rules))
    case = run(rules, *dispatched(rules), ev("case.flagged", 20, by="duty", note="深坑"))
    assert case.emergency is True and case.deadline == before.deadline


def test_flagging_in_emergency_mode_gives_at_most_the_emergency_limit_from_now(
    rules: Rules,
) -> None:
    """In a typhoon, 4 working hours become 4 natural hours counted from the flag."""
    case = run(rules, *dispatched(rules))
    assert case.deadline == datetime(2026, 11, 23, 15, 40, tzinfo=SH)
    lifecycle.apply(case, ev("case.flagged", 20, by="duty"), rules, SignalLevel.RED)
    assert case.emergency is True
    assert case.deadline == datetime(2026, 11, 23, 13, 20, tzinfo=SH)
    assert case.limit_unit == "natural_hours"


def test_flagging_never_gives_a_later_deadline(rules: Rules) -> None:
    """A case flagged an hour before its deadline keeps that deadline."""
    case = run(rules, *dispatched(rules))
    lifecycle.apply(case, ev("case.flagged", 330, by="duty"), rules, SignalLevel.RED)
    assert case.deadline == datetime(2026, 11, 23, 15, 40, tzinfo=SH)
