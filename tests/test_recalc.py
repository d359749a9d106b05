"""A new calendar recomputes the open deadlines it changes, audited; closed ones stay."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli import main
from dashboard.domain.days import Days, YearEntry
from dashboard.domain.lifecycle import Rules
from dashboard.domain.workcal import WorkingCalendar
from dashboard.store.batch import Store
from dashboard.store.models import AuditEntry
from dashboard.store.recalc import apply_calendar
from streams.consumer import Item
from streams.producer import new_event
from streams.schema import validate
from tests.stories import story

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
CITY_DAY_OFF = date(2026, 11, 30)  # a Monday the city gives off in the new file


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def with_days(rules: Rules, days: Days) -> Rules:
    return replace(rules, calendar=WorkingCalendar(days=days))


def apply(store: Store, *events: dict[str, Any]) -> None:
    items = [Item(f"{i}-0", validate(e)) for i, e in enumerate(events)]
    assert store.apply_batch(items).rejected == []


def audit_rows(store: Store, action: str) -> list[dict[str, Any]]:
    with store.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [json.loads(row.detail or "{}") for row in rows]


def two_cases(store: Store) -> None:
    """Exposed garbage (4 working hours) dispatched Fri 27 Nov 17:00, twice; one closed."""
    apply(store, *story("OPEN", at(11, 27, 17)), *story("DONE", at(11, 27, 17)))
    apply(
        store,
        new_event("case.handled", "DONE", at(11, 27, 17, 30)),
        new_event("case.closed", "DONE", at(11, 27, 17, 40)),
    )


def test_a_new_city_day_off_moves_open_deadlines_with_audit_rows(store: Store) -> None:
    """Deadline Mon 30 Nov 11:30 becomes Tue 1 Dec 11:30; the audit has old and new."""
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    assert store.case("OPEN").deadline == at(11, 30, 11, 30)
    new = with_days(store.rules, Days(years={2026: YearEntry(2026, frozenset({CITY_DAY_OFF}))}))
    with store.sessions.begin() as session:
        result = apply_calendar(session, new, NOW, "test")
    assert result.changed_days == [CITY_DAY_OFF] and set(result.cases) == {"OPEN"}
    assert store.case("OPEN").deadline == at(12, 1, 11, 30)
    [row] = audit_rows(store, "calendar.recomputed")
    assert row["case"] == "OPEN"
    assert datetime.fromisoformat(row["old_deadline"]) == at(11, 30, 11, 30)
    assert datetime.fromisoformat(row["new_deadline"]) == at(12, 1, 11, 30)


def test_a_closed_case_keeps_the_deadline_it_was_judged_by(store: Store) -> None:
    """The closed case's deadline and on-time verdict do not change."""
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    before = store.case("DONE")
    new = with_days(store.rules, Days(years={2026: YearEntry(2026, frozenset({CITY_DAY_OFF}))}))
    with store.sessions.begin() as session:
        apply_calendar(session, new, NOW, "test")
    after = store.case("DONE")
    assert (after.deadline, after.closed_on_time) == (before.deadline, before.closed_on_time)


def test_the_same_calendar_again_changes_nothing(store: Store) -> None:
    """Loading a calendar already recorded recomputes nothing and writes no audit row."""
    two_cases(store)
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    with store.sessions.begin() as session:
        again = apply_calendar(session, store.rules, NOW, "test")
    assert not again.new and len(audit_rows(store, "calendar.loaded")) == 1


def test_a_change_outside_a_case_span_leaves_it_alone(store: Store) -> None:
    """A day off added in March 2026 does not touch a November case."""
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    march = Days(years={2026: YearEntry(2026, frozenset({date(2026, 3, 2)}))})
    with store.sessions.begin() as session:
        result = apply_calendar(session, with_days(store.rules, march), NOW, "test")
    assert result.new and result.cases == {}


def test_calendar_reload_command_recomputes_from_the_city_file(
    tmp_path: Path, settings: Any, store: Store
) -> None:
    """`calendar reload` with a city folder whose file adds the day: the case moves."""
    from dashboard.domain.catalogue import DEFAULT_DIR

    city = tmp_path / "city"
    city.mkdir()
    for file in DEFAULT_DIR.iterdir():
        if file.name != "calendar.yaml":
            (city / file.name).write_bytes(file.read_bytes())
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    (city / "calendar.yaml").write_text("years:\n  2026:\n    days_off: [2026-11-30]\n")
    args = ["calendar", "reload", "--city-dir", str(city), "--data-dir", settings.data_dir,
            "--redis-url", settings.redis_url]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert "1 open deadlines recomputed" in result.output, result.output
    assert store.case("OPEN").deadline == at(12, 1, 11, 30)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dashboard.cli", *args]
    return subprocess.run(command, capture_output=True, text=True)


def test_calendar_check_fails_for_a_year_nobody_covers() -> None:
    """On 5 Dec 2026 the shipped Zhuhai calendar lacks 2027: exit 1, and it says so."""
    result = run_cli("calendar", "check", "--today", "2026-12-05")
    assert result.returncode == 1
    assert "covered until 2026-12-31" in result.stdout and "missing 2027" in result.stderr


def test_calendar_check_passes_with_sixty_days_to_go() -> None:
    """On 1 Oct 2026 nothing is missing yet: exit 0."""
    assert run_cli("calendar", "check", "--today", "2026-10-01").returncode == 0


def test_calendar_check_passes_for_new_york_by_rule() -> None:
    """New York's calendar follows rules: every year is covered."""
    city = str(Path(__file__).parents[1] / "dashboard" / "data" / "new-york")
    result = run_cli("calendar", "check", "--city-dir", city, "--today", "2026-12-05")
    assert result.returncode == 0 and "every year" in result.stdout


def test_calendar_show_lists_the_days_to_compare_with_the_notice() -> None:
    """`calendar show 2027` flags the year and lists its statutory days off."""
    out = CliRunner().invoke(main, ["calendar", "show", "2027"]).output
    assert out.startswith("2027: NOT PUBLISHED")
    assert (
        "off    2027-02-08 Mon  Chinese New Year" in out
        and "2027-01: 20 working days (140 h)" in out
    )


def test_the_worker_takes_a_changed_calendar_between_batches(
    redis_client: Any, store: Store, settings: Any
) -> None:
    """When its watch gives new rules, the worker recomputes and keeps the new calendar."""
    from tests.test_ingest import make_ingest

    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    new = with_days(store.rules, Days(years={2026: YearEntry(2026, frozenset({CITY_DAY_OFF}))}))
    given = [new]
    ingest = make_ingest(
        redis_client, store, settings, "w", calendar_watch=lambda: given.pop() if given else None
    )
    ingest._after_step()
    assert store.case("OPEN").deadline == at(12, 1, 11, 30) and store.rules is new
    assert "OPEN" in ingest._changed


def test_cases_dispatched_between_reload_and_the_worker_taking_it_are_recomputed(
    store: Store,
) -> None:
    """`calendar reload` records the new calendar; the worker still dispatches by the
    old one for a few seconds; when it takes the new one, those cases move too."""
    old = store.rules
    with store.sessions.begin() as session:
        apply_calendar(session, old, NOW, "test")
    new = with_days(old, Days(years={2026: YearEntry(2026, frozenset({CITY_DAY_OFF}))}))
    with store.sessions.begin() as session:
        apply_calendar(session, new, NOW, "calendar reload")  # nothing open yet
    two_cases(store)  # dispatched by the worker's old rules
    assert store.case("OPEN").deadline == at(11, 30, 11, 30)
    with store.sessions.begin() as session:
        result = apply_calendar(session, new, NOW, "ingest", previous=old)
    assert not result.new and set(result.cases) == {"OPEN"}
    assert store.case("OPEN").deadline == at(12, 1, 11, 30)


def test_other_office_hours_recompute_every_open_working_deadline(store: Store) -> None:
    """From 08:30-12:00,14:30-18:00 to 09:00-17:00: Mon 30 Nov 11:30 becomes 13:00."""
    with store.sessions.begin() as session:
        apply_calendar(session, store.rules, NOW, "test")
    two_cases(store)
    calendar = WorkingCalendar(office_hours=[("09:00", "17:00")])
    with store.sessions.begin() as session:
        result = apply_calendar(session, replace(store.rules, calendar=calendar), NOW, "test")
    # Fri 17:00 is closing time: 4 h from Monday 09:00.
    assert set(result.cases) == {"OPEN"} and store.case("OPEN").deadline == at(11, 30, 13)
