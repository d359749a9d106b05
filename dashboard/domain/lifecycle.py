"""The national case workflow as a pure state machine over case records.

`apply` folds one event into a case; the same function serves live ingest and the
rebuild of a case from its history, so the two can never disagree. An event that
names an impossible transition raises `TransitionError` with a precise reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from dashboard.domain import deadlines
from dashboard.domain.case import CaseRecord
from dashboard.domain.catalogue import Catalogue, Category
from dashboard.domain.deadlines import Clock
from dashboard.domain.emergency import Policy, Timeline
from dashboard.domain.limits import Limit, LimitUnit
from dashboard.domain.workcal import WorkingCalendar
from streams.names import OPEN_STATES, CaseState, EventType, Light, SignalLevel, Source, Urgency
from streams.schema import Event

S = CaseState
C = TypeVar("C", bound=CaseRecord)


class TransitionError(ValueError):
    """An event that the case's current state does not allow."""


@dataclass(frozen=True)
class Rules:
    """What the workflow needs to know about the city."""

    catalogue: Catalogue
    calendar: WorkingCalendar
    warn_ratio: float = 0.8
    # A city setting: by default rework (返工) keeps the original deadline.
    rework_restarts_clock: bool = False
    policy: Policy = field(default_factory=Policy)

    def category(self, case: CaseRecord) -> Category:
        """The catalogue entry of a case; reports of unknown categories never get in."""
        category = self.catalogue.category(case.kind, case.category)
        assert category is not None, f"case {case.case_id} has unknown category"
        return category


Handler = Callable[[CaseRecord, Event, Rules], None]

# The states each event may leave from (DOMAIN.md, "Case lifecycle").
OPEN = frozenset(OPEN_STATES)
ALLOWED: dict[EventType, frozenset[CaseState]] = {
    EventType.FILED: frozenset({S.REPORTED}),
    EventType.REJECTED: frozenset({S.REPORTED}),
    EventType.VOIDED: frozenset({S.FILED}),
    EventType.DISPATCHED: frozenset({S.FILED}),
    EventType.RETURNED: frozenset({S.DISPATCHED}),
    EventType.EXTENDED: frozenset({S.DISPATCHED}),
    EventType.SUSPENDED: frozenset({S.DISPATCHED}),
    EventType.RESUMED: frozenset({S.SUSPENDED}),
    EventType.HANDLED: frozenset({S.DISPATCHED}),
    EventType.VERIFIED: frozenset({S.HANDLED}),
    EventType.CLOSED: frozenset({S.HANDLED, S.VERIFYING}),
    EventType.URGED: OPEN,
    EventType.SUPERVISED: OPEN,
    EventType.FLAGGED: OPEN,
}


def apply(
    case: C | None,
    event: Event,
    rules: Rules,
    emergency: SignalLevel | None = None,
    *,
    new_case: Callable[..., C] | None = None,
) -> C:
    """Fold one case event into the case (creating it on report) and return it.

    `emergency` is the signal level in force at the event's time, if any: it decides
    the handling limit of a dispatch. `new_case` makes the record of a reported case.
    """
    if event.type is EventType.REPORTED:
        if case is not None:
            raise TransitionError(f"case {event.case_id} was already reported")
        if new_case is None:
            raise TypeError("a case.reported event needs new_case to make the record")
        return report(event, rules, new_case)
    if case is None:
        raise TransitionError(f"unknown case {event.case_id}: no case.reported seen")
    state = CaseState(case.state)
    allowed = ALLOWED[event.type]
    if state not in allowed:
        need = ", ".join(sorted(s.value for s in allowed))
        raise TransitionError(
            f"{event.type.value} is impossible for case {case.case_id} in state "
            f"{state.value} (allowed from: {need})"
        )
    if event.type is EventType.DISPATCHED:
        _dispatched(case, event, rules, emergency)
    elif event.type is EventType.FLAGGED:
        _flagged(case, event, rules, emergency)
    else:
        HANDLERS[event.type](case, event, rules)
    case.updated_at = event.at
    return case


def rebuild(
    events: Iterable[Event],
    rules: Rules,
    new_case: Callable[..., C],
    timeline: Timeline | None = None,
) -> C | None:
    """A case's current state derived again from its history (and the emergencies)."""
    case: C | None = None
    for event in events:
        level = timeline.level_at(event.at) if timeline is not None else None
        case = apply(case, event, rules, level, new_case=new_case)
    return case


def report(event: Event, rules: Rules, new_case: Callable[..., C]) -> C:
    """A new case from `case.reported`; self-handled reports close at once."""
    data = event.data
    if rules.catalogue.category(data["kind"], data["category"]) is None:
        raise TransitionError(
            f"category {data['kind']} {data['category']} is not in the city's catalogue"
        )
    case = new_case(
        case_id=event.case_id,
        state=S.REPORTED.value,
        kind=str(data["kind"]),
        category=data["category"],
        urgency=str(data.get("urgency", Urgency.NORMAL)),
        source=str(data["source"]),
        lon=data["lon"],
        lat=data["lat"],
        reported_at=event.at,
        updated_at=event.at,
        extended_hours=0.0,
        extensions=0,
        returns=0,
        reworks=0,
        urges=0,
        supervised=False,
        emergency=bool(data.get("emergency", False)),
    )
    for name in ("address", "description"):
        setattr(case, name, data.get(name))
    # A report with only lon/lat still lands in its district (and street, grid).
    for level, code in rules.catalogue.place(case.lon, case.lat, data).items():
        setattr(case, level, code)
    if data["source"] == Source.SELF:
        # 自查自纠: the inspector fixed it on the spot; reported and closed at once.
        case.state, case.closed_at, case.closed_on_time = S.CLOSED.value, event.at, True
    return case


def _filed(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state, case.filed_at = S.FILED.value, event.at


def _rejected(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state = S.REJECTED.value


def _voided(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state = S.VOIDED.value


def _dispatched(
    case: CaseRecord, event: Event, rules: Rules, emergency: SignalLevel | None
) -> None:
    department = event.data["department"]
    if department not in rules.catalogue.units:
        raise TransitionError(f"department {department!r} is not a responsible unit")
    category = rules.category(case)
    limit = category.limit_for(Urgency(case.urgency))
    flagged = case.emergency or bool(event.data.get("emergency", False))
    if emergency is not None and (category.emergency or flagged):
        # Emergency classes count natural time, capped by the level in force.
        cap = rules.policy.cap(emergency)
        limit = deadlines.emergency_limit(limit, cap, rules.calendar.hours_per_working_day)
        flagged = True
    clock = _clock_for(event, limit, rules)  # may refuse: change nothing before it
    case.emergency = flagged
    case.state, case.department, case.dispatched_at = S.DISPATCHED.value, department, event.at
    case.limit_value, case.limit_unit = limit.value, limit.unit.value
    _set_clock(case, clock)


def _clock_for(event: Event, limit: Limit, rules: Rules) -> Clock:
    given = event.data.get("deadline")
    if given is None:
        return deadlines.start_clock(event.at, limit, rules.calendar, rules.warn_ratio)
    if given <= event.at:
        raise TransitionError(f"deadline {given.isoformat()} is not after the dispatch")
    # A producer-stated deadline: yellow starts at the same share of the span.
    return Clock(deadline=given, warn_at=event.at + (given - event.at) * rules.warn_ratio)


def _set_clock(case: CaseRecord, clock: Clock | None) -> None:
    case.deadline = clock.deadline if clock else None
    case.warn_at = clock.warn_at if clock else None


def _clock(case: CaseRecord) -> Clock:
    assert case.deadline is not None and case.warn_at is not None
    return Clock(deadline=case.deadline, warn_at=case.warn_at)


def _unit(case: CaseRecord) -> LimitUnit:
    return LimitUnit(case.limit_unit or LimitUnit.NATURAL_HOURS)


def _returned(case: CaseRecord, event: Event, rules: Rules) -> None:
    # 回退: the wrong department hands it back; it waits to be dispatched again.
    case.state, case.returns = S.FILED.value, case.returns + 1
    _set_clock(case, None)


def _extended(case: CaseRecord, event: Event, rules: Rules) -> None:
    hours = float(event.data["hours"])
    case.extended_hours, case.extensions = case.extended_hours + hours, case.extensions + 1
    _set_clock(case, deadlines.extend_clock(_clock(case), hours, _unit(case), rules.calendar))


def _suspended(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state, case.suspended_at = S.SUSPENDED.value, event.at


def _resumed(case: CaseRecord, event: Event, rules: Rules) -> None:
    # 挂账 stops the clock: the time spent suspended is given back.
    assert case.suspended_at is not None
    paused = deadlines.pause_clock(
        _clock(case), case.suspended_at, event.at, _unit(case), rules.calendar
    )
    case.state, case.suspended_at = S.DISPATCHED.value, None
    _set_clock(case, paused)


def _handled(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state, case.handled_at = S.HANDLED.value, event.at


def _verified(case: CaseRecord, event: Event, rules: Rules) -> None:
    if event.data["passed"]:
        # The on-site check passed; the shift leader closes next.
        case.state = S.VERIFYING.value
        return
    # 返工: back to the same department; by default the clock keeps running.
    case.state, case.reworks, case.handled_at = S.DISPATCHED.value, case.reworks + 1, None
    if rules.rework_restarts_clock:
        limit = Limit(case.limit_value or 1.0, _unit(case))
        _set_clock(case, deadlines.start_clock(event.at, limit, rules.calendar, rules.warn_ratio))


def _closed(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.state, case.closed_at = S.CLOSED.value, event.at
    done = case.handled_at or event.at
    case.closed_on_time = case.deadline is None or deadlines.on_time(done, _clock(case))


def _urged(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.urges += 1


def _supervised(case: CaseRecord, event: Event, rules: Rules) -> None:
    case.supervised = True


def _flagged(case: CaseRecord, event: Event, rules: Rules, emergency: SignalLevel | None) -> None:
    """An emergency case from now on; in emergency mode its clock follows the policy.

    A running case gets at most the emergency limit counted from the flag (not from
    its dispatch: the unit learns of the urgency now), and never a later deadline.
    """
    case.emergency = True
    if emergency is None or case.deadline is None or case.state != S.DISPATCHED.value:
        return  # a later dispatch in emergency mode caps it (see _dispatched)
    limit = deadlines.emergency_limit(
        rules.category(case).limit_for(Urgency(case.urgency)),
        rules.policy.cap(emergency),
        rules.calendar.hours_per_working_day,
    )
    clock = deadlines.start_clock(event.at, limit, rules.calendar, rules.warn_ratio)
    if clock.deadline < case.deadline:
        case.limit_value, case.limit_unit = limit.value, limit.unit.value
        _set_clock(case, clock)


HANDLERS: dict[EventType, Handler] = {
    EventType.FILED: _filed,
    EventType.REJECTED: _rejected,
    EventType.VOIDED: _voided,
    EventType.RETURNED: _returned,
    EventType.EXTENDED: _extended,
    EventType.SUSPENDED: _suspended,
    EventType.RESUMED: _resumed,
    EventType.HANDLED: _handled,
    EventType.VERIFIED: _verified,
    EventType.CLOSED: _closed,
    EventType.URGED: _urged,
    EventType.SUPERVISED: _supervised,
}


def light_of(case: CaseRecord, now: datetime) -> Light | None:
    """The traffic light of an open, dispatched, running case (None otherwise)."""
    running = case.state in OPEN_STATES and case.state != CaseState.SUSPENDED
    if case.deadline is None or case.warn_at is None or not running:
        return None
    return deadlines.light(now, _clock(case))


def is_overdue(case: CaseRecord, now: datetime) -> bool:
    """Whether an open, dispatched case is past its deadline."""
    return case.deadline is not None and now >= case.deadline
