"""Emergency mode: what raises it, what it changes, and that it survives restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dashboard.domain import lifecycle
from dashboard.domain.configfile import ConfigError
from dashboard.domain.emergency import Policy, load_policy
from dashboard.domain.lifecycle import Rules
from dashboard.store import emergency
from dashboard.store.batch import Store
from dashboard.store.emergency import load_timeline
from dashboard.store.models import AuditEntry, Case
from streams.consumer import Item
from streams.names import SignalLevel
from streams.producer import new_event
from streams.schema import validate
from tests.stories import story

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00 in Shanghai.
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


def at(minutes: float) -> datetime:
    """A moment `minutes` after Monday 09:00."""
    return T0 + timedelta(minutes=minutes)


def apply(store: Store, *events: dict[str, Any]) -> None:
    """Apply events through the store, in order, one batch."""
    items = [Item(f"{i}-0", validate(e)) for i, e in enumerate(events)]
    result = store.apply_batch(items)
    assert result.rejected == [], result.rejected


def raised(level: str, minutes: float = 0, hazard: str = "typhoon") -> dict[str, Any]:
    """An emergency.raised event."""
    return new_event("emergency.raised", at=at(minutes), hazard=hazard, level=level, by="weather")


def damaged_road(case_id: str, minutes: float, **report: Any) -> list[dict[str, Any]]:
    """A damaged road (event 0110: 3 working days, an emergency class), dispatched."""
    return story(
        case_id,
        at(minutes + 2),
        "gardens",
        reported_before=timedelta(minutes=2),
        filed_before=timedelta(minutes=1),
        category="0110",
        **report,
    )


def garbage(case_id: str, category: str, **report: Any) -> list[dict[str, Any]]:
    """A city-appearance case reported at 09:10, filed 09:11, dispatched 09:12 to sanitation."""
    return story(
        case_id,
        at(12),
        "sanitation",
        reported_before=timedelta(minutes=2),
        filed_before=timedelta(minutes=1),
        category=category,
        lon=113.5,
        lat=22.2,
        **report,
    )


def active(store: Store) -> dict[str, Any] | None:
    """The emergency state as screens get it."""
    with store.sessions() as session:
        return emergency.state(session)


def test_yellow_typhoon_raises_emergency_mode(store: Store) -> None:
    """A yellow typhoon signal switches the city into emergency mode."""
    apply(store, raised("yellow"))
    state = active(store)
    assert state is not None and state["hazard"] == "typhoon" and state["level"] == "yellow"
    assert state["raised_by"] == "weather"


@pytest.mark.parametrize(("hazard", "level"), [("typhoon", "blue"), ("rainstorm", "yellow")])
def test_signal_below_the_threshold_is_only_recorded(store: Store, hazard: str, level: str) -> None:
    """A blue typhoon or yellow rainstorm signal does not raise the mode (default policy)."""
    apply(store, raised(level, hazard=hazard))
    assert active(store) is None
    with store.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions == ["emergency.signal"]


def test_emergency_class_gets_natural_time_capped_at_12_hours(store: Store) -> None:
    """A damaged road dispatched in a typhoon is due 12 natural hours later."""
    apply(store, raised("orange"), *damaged_road("R1", 10))
    case = store.case("R1")
    assert case is not None and case.emergency is True
    assert case.deadline == at(12) + timedelta(hours=12)


def test_red_signal_tightens_the_cap_to_6_hours(store: Store) -> None:
    """At red the policy allows 6 hours; dispatches after the change get it."""
    apply(store, raised("orange"), raised("red", 5), *damaged_road("R1", 10))
    assert store.case("R1").deadline == at(12) + timedelta(hours=6)


def test_case_dispatched_before_the_switch_keeps_its_deadline(store: Store) -> None:
    """By default a case dispatched before the warning keeps working-time deadline."""
    apply(store, *damaged_road("R0", 0))
    before = store.case("R0").deadline
    apply(store, raised("red", 30))
    assert store.case("R0").deadline == before and store.case("R0").emergency is False


def test_other_classes_are_unaffected(store: Store) -> None:
    """Exposed garbage (not an emergency class) keeps its working-time limit."""
    apply(store, raised("red"), *garbage("G1", "0102"))
    assert store.case("G1").deadline == datetime(2026, 11, 23, 15, 42, tzinfo=SH)


def test_flagged_case_counts_as_emergency(store: Store) -> None:
    """Any case flagged emergency by its producer gets the emergency limit."""
    apply(store, raised("yellow"), *garbage("G2", "0104", emergency=True))
    # Dirty road: 5 working hours, as natural hours under the 12 h cap.
    assert store.case("G2").deadline == at(12) + timedelta(hours=5)


def test_clearing_restores_normal_deadlines(store: Store) -> None:
    """After emergency.cleared, dispatches count working time again."""
    cleared = new_event("emergency.cleared", at=at(5), by="weather")
    apply(store, raised("orange"), cleared, *damaged_road("R1", 10))
    assert active(store) is None
    assert store.case("R1").emergency is False
    assert store.case("R1").deadline > at(12) + timedelta(hours=24)


def test_clear_without_emergency_is_harmless(store: Store) -> None:
    """Clearing when nothing is raised changes nothing and is not an error."""
    apply(store, new_event("emergency.cleared", at=at(0)))
    assert active(store) is None


def test_mode_survives_a_restart(store: Store, engine, rules: Rules) -> None:
    """A new process on the same database comes back in emergency mode."""
    apply(store, raised("orange"))
    again = Store(engine, rules)
    assert active(again) is not None
    apply(again, *damaged_road("R1", 10))
    assert again.case("R1").deadline == at(12) + timedelta(hours=12)


def test_late_dispatch_is_judged_by_its_own_time(store: Store) -> None:
    """A dispatch stamped before the warning but arriving after keeps normal time."""
    apply(store, *damaged_road("R1", 0)[:2], raised("orange", 30))
    apply(store, new_event("case.dispatched", "R1", at(2), department="gardens"))
    assert store.case("R1").emergency is False


def test_rebuild_with_the_timeline_matches_the_store(store: Store, rules: Rules) -> None:
    """Rebuilding an emergency case from history gives the stored state."""
    from streams.schema import parse_entry

    apply(store, raised("orange"), *damaged_road("R1", 10))
    history = [parse_entry({"event": row.payload}) for row in store.history("R1")]
    with store.sessions() as session:
        rebuilt = lifecycle.rebuild(history, rules, Case, load_timeline(session))
    assert rebuilt is not None and rebuilt.deadline == store.case("R1").deadline


def test_policy_may_tighten_open_cases(engine, rules: Rules) -> None:
    """With tighten_open_cases, open emergency-class cases get the cap on raise."""
    from dataclasses import replace

    store = Store(engine, replace(rules, policy=Policy(tighten_open_cases=True)))
    apply(store, *damaged_road("R0", 0), raised("red", 30))
    assert store.case("R0").deadline == at(30) + timedelta(hours=6)


def test_policy_tightens_cases_stored_by_earlier_batches(engine, rules: Rules) -> None:
    """Cases already in the database are tightened too, not only the batch's own."""
    from dataclasses import replace

    store = Store(engine, replace(rules, policy=Policy(tighten_open_cases=True)))
    apply(store, *damaged_road("R1", 0))
    apply(store, *damaged_road("R2", 1), raised("red", 30))
    assert store.case("R1").deadline == at(30) + timedelta(hours=6)
    assert store.case("R2").deadline == at(30) + timedelta(hours=6)


def test_policy_file_is_read_and_checked(tmp_path: Path) -> None:
    """A city's policy file sets thresholds and caps; a cap over 12 h is refused."""
    (tmp_path / "emergency.yaml").write_text("raise_at: {typhoon: orange}\ncaps: {red: 4}\n")
    policy = load_policy(tmp_path)
    assert not policy.raises("typhoon", SignalLevel.YELLOW) and policy.cap("red") == 4.0
    (tmp_path / "emergency.yaml").write_text("caps: {red: 24}\n")
    with pytest.raises(ConfigError, match="at most 12 hours"):
        load_policy(tmp_path)
