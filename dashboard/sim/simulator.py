"""A simulated city publishing contract-v1 case events, for demos and load tests.

Each case's whole story (report, filing, dispatch, handling, verification, closure
and the detours between) is drawn when the case arrives, so every sequence it emits
is one the workflow accepts; its steps then wait in a heap keyed by time, one entry
per open case, so generating stays cheap at thousands of events a second.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard.domain import deadlines
from dashboard.domain.catalogue import CATEGORIES_FILE, Catalogue, Category
from dashboard.domain.configfile import ConfigError
from dashboard.domain.deadlines import Clock
from dashboard.domain.limits import LimitUnit
from dashboard.domain.workcal import WorkingCalendar
from dashboard.sim.simcity import (
    RHYTHM_PEAK,
    SOURCE_MIX,
    CityMap,
    Mix,
    category_mix,
    rhythm,
    urgency_for,
    weight_and_self_share,
)
from streams.names import CaseState, EventType, Kind, Source, Urgency
from streams.producer import Producer, new_event

log = logging.getLogger(__name__)

T = EventType
S = CaseState
TICK_SECONDS = 0.1
BACKFILL_SLICE = timedelta(minutes=10)
PUBLISH_BATCH = 1000
MAX_BACKOFF_SECONDS = 30.0
CALIBRATION_CASES = 400

# Citizens' and callers' reports are more often out of scope or duplicates (不予立案).
REJECT_SHARE = {Source.INSPECTOR: 0.05, Source.CITIZEN: 0.18, Source.HOTLINE: 0.15}
REJECT_DEFAULT = 0.08
# Shares of the workflow's detours. VOID is of filed cases (~1% of all cases); the
# others are of dispatched cases; URGE is of overdue ones.
VOID_SHARE = 0.017
RETURN_SHARE, EXTEND_SHARE, SUSPEND_SHARE = 0.03, 0.03, 0.01
REWORK_SHARE, SUPERVISE_SHARE, URGE_SHARE = 0.05, 0.01, 0.7
EXTENSION_HOURS = (2, 4, 8, 16, 24)
# Minutes from report to filing and from filing to dispatch; urgent cases go faster.
Minutes = Mapping[Urgency, tuple[float, float]]
FILE_MINUTES: Minutes = {
    Urgency.NORMAL: (1, 10),
    Urgency.URGENT: (0.5, 3),
    Urgency.VERY_URGENT: (0.3, 2),
}
DISPATCH_MINUTES: Minutes = {
    Urgency.NORMAL: (10, 30),
    Urgency.URGENT: (3, 8),
    Urgency.VERY_URGENT: (1, 5),
}
LEADERS = ("市城管委主任", "分管副市长", "区长", "区城管局局长")
CENTRE = "监督指挥中心"
REJECT_NOTES = ("不属于城管受理范围", "重复上报", "现场核实无此问题")

# (POSIX time, type, fields or None): compact, as a load test keeps ~10^6 stories open.
Step = tuple[float, EventType, dict[str, Any] | None]


@dataclass(frozen=True)
class OpenCase:
    """A case an earlier run left open, for the simulator to play to its end."""

    case_id: str
    state: str
    kind: str
    category: str
    urgency: str


@dataclass(frozen=True)
class SimulatorConfig:
    """How busy the simulated city is and how it behaves."""

    rate: float = 5.0  # events per second on average over a day, at speed 1
    seed: int | None = None
    overdue_share: float = 0.10  # of dispatched cases, handled after the deadline
    backfill_hours: float = 8.0
    # A demo at night: every hour as busy as the day's peak instead of the day's rhythm.
    busy: bool = False

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        if not 0 <= self.overdue_share <= 1:
            raise ValueError(f"overdue_share must be in [0, 1], got {self.overdue_share}")
        if not self.backfill_hours >= 0:
            raise ValueError(f"backfill_hours must be >= 0, got {self.backfill_hours}")


@dataclass(slots=True)
class _Story:
    """One case's steps; once planned, the latest first so that pop() gives the next."""

    case_id: str
    category: Category
    urgency: Urgency
    steps: list[Step] = field(default_factory=list)

    def add(self, at: datetime, type: EventType, **fields: Any) -> None:
        self.steps.append((at.timestamp(), type, fields or None))

    def seal(self) -> None:
        # Stable ascending sort, then reversed: steps at the same instant keep their order.
        self.steps.sort(key=lambda step: step[0])
        self.steps.reverse()


def _minutes(low: float, high: float, rng: random.Random) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _between(
    start: datetime, end: datetime, low: float, high: float, rng: random.Random
) -> datetime:
    return start + (end - start) * rng.uniform(low, high)


class _Planner:
    """Draws the whole story of a case at its arrival."""

    def __init__(
        self,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        city: CityMap,
        rng: random.Random,
        overdue_share: float,
    ) -> None:
        self.catalogue, self.calendar, self.city, self.rng = catalogue, calendar, city, rng
        self.overdue_share = overdue_share
        self.categories = category_mix(catalogue)
        self.sources = Mix(SOURCE_MIX)
        self.departments = sorted({c.department for c in catalogue.categories.values()})
        self.tz = ZoneInfo(catalogue.timezone)
        self.serials = itertools.count(1)
        # Case ids must not clash with an earlier run's in the same stream, seed or not.
        self.tag = secrets.token_hex(3).upper()

    def plan(self, at: datetime) -> _Story:
        """A new case reported at `at`, with every later step of its life."""
        category = self.categories.pick(self.rng)
        fixed_on_spot = self.rng.random() < weight_and_self_share(category)[1]
        source = Source.SELF if fixed_on_spot else self.sources.pick(self.rng)
        urgency = Urgency.NORMAL if fixed_on_spot else urgency_for(category, self.rng)
        story = _Story(self._case_id(category, at), category, urgency)
        story.add(at, T.REPORTED, **self._report(category, urgency, source))
        if source is not Source.SELF:  # a self-handled case is closed by its report
            self._triage(story, source, at)
        story.seal()
        return story

    def resume(self, case: OpenCase, at: datetime) -> _Story | None:
        """The rest of an open case's life from `at`, by the state it is in."""
        category = self.catalogue.category(case.kind, case.category)
        if category is None:
            return None  # a category the city no longer has: leave it be
        story = _Story(case.case_id, category, Urgency(case.urgency))
        if case.state == S.REPORTED:
            story.add(at, T.FILED)
            self._dispatch(story, at)
        elif case.state == S.FILED:
            self._dispatch(story, at)
        elif case.state in (S.DISPATCHED, S.SUSPENDED):
            if case.state == S.SUSPENDED:
                at += _minutes(30, 240, self.rng)
                story.add(at, T.RESUMED)
            self._work(story, at)
        elif case.state == S.HANDLED:
            verified = at + _minutes(10, 45, self.rng)
            story.add(verified, T.VERIFIED, passed=True)
            story.add(verified + _minutes(5, 20, self.rng), T.CLOSED)
        elif case.state == S.VERIFYING:
            story.add(at + _minutes(5, 20, self.rng), T.CLOSED)
        story.seal()
        return story

    def _case_id(self, category: Category, at: datetime) -> str:
        prefix = "E" if category.kind is Kind.EVENT else "C"
        day = at.astimezone(self.tz)
        return f"{prefix}{category.code}{day:%Y%m%d}{next(self.serials):06d}-{self.tag}"

    def _report(self, category: Category, urgency: Urgency, source: Source) -> dict[str, Any]:
        place = self.city.pick(self.rng)
        # A city without grids (or districts) names only what it has; the server
        # places the rest by the position.
        areas = {"grid": place.grid, "district": place.district, "street": place.street}
        return {
            "source": source.value,
            "kind": category.kind.value,
            "category": category.code,
            "urgency": urgency.value,
            "lon": round(place.lon, 6),
            "lat": round(place.lat, 6),
            **{level: code for level, code in areas.items() if code is not None},
            "address": place.address,
            "description": category.name,
        }

    def _delay(self, story: _Story, table: Minutes) -> timedelta:
        return _minutes(*table[story.urgency], self.rng)

    def _triage(self, story: _Story, source: Source, reported: datetime) -> None:
        """Filing or rejection by the shift leader; a few filed cases are voided."""
        filed = reported + self._delay(story, FILE_MINUTES)
        if self.rng.random() < REJECT_SHARE.get(source, REJECT_DEFAULT):
            story.add(filed, T.REJECTED, note=self.rng.choice(REJECT_NOTES))
            return
        story.add(filed, T.FILED)
        if self.rng.random() < VOID_SHARE:
            story.add(filed + _minutes(5, 90, self.rng), T.VOIDED, note="重复立案")
            return
        self._dispatch(story, filed)

    def _dispatch(self, story: _Story, filed: datetime) -> None:
        """Dispatch to the category's unit; a few are returned and sent elsewhere."""
        at, department = filed + self._delay(story, DISPATCH_MINUTES), story.category.department
        if self.rng.random() < RETURN_SHARE:
            story.add(at, T.DISPATCHED, department=department)
            returned = at + _minutes(20, 240, self.rng)
            story.add(returned, T.RETURNED, note="非本单位职责")
            at = returned + self._delay(story, DISPATCH_MINUTES)
            department = self._other_unit(department)
        story.add(at, T.DISPATCHED, department=department)
        self._work(story, at)

    def _other_unit(self, department: str) -> str:
        others = [code for code in self.departments if code != department]
        return self.rng.choice(others or sorted(self.catalogue.units))

    def _work(self, story: _Story, dispatched: datetime) -> None:
        """Handling against the real deadline, then verification and closure."""
        limit = story.category.limit_for(story.urgency)
        clock = deadlines.start_clock(dispatched, limit, self.calendar)
        deadline, since = self._interrupt(story, dispatched, clock, limit.unit)
        handled = self._handled_at(since, deadline, limit.unit)
        if self.rng.random() < REWORK_SHARE:
            self._rework(story, since, handled)
        story.add(handled, T.HANDLED)
        self._oversee(story, dispatched, deadline, handled)
        verified = handled + _minutes(10, 45, self.rng)
        story.add(verified, T.VERIFIED, passed=True)
        story.add(verified + _minutes(5, 20, self.rng), T.CLOSED)

    def _interrupt(
        self, story: _Story, dispatched: datetime, clock: Clock, unit: LimitUnit
    ) -> tuple[datetime, datetime]:
        """Maybe an extension or a suspension; the deadline and when work goes on."""
        draw, cal = self.rng.random(), self.calendar
        if draw < EXTEND_SHARE:
            at = _between(dispatched, clock.deadline, 0.5, 0.9, self.rng)
            hours = self.rng.choice(EXTENSION_HOURS)
            story.add(at, T.EXTENDED, hours=hours, note="需协调施工")
            return deadlines.extend_clock(clock, hours, unit, cal).deadline, at
        if draw < EXTEND_SHARE + SUSPEND_SHARE:
            at = _between(dispatched, clock.deadline, 0.1, 0.5, self.rng)
            resumed = at + timedelta(hours=self.rng.uniform(1, 48))
            story.add(at, T.SUSPENDED, note="待工程施工完成")
            story.add(resumed, T.RESUMED)
            return deadlines.pause_clock(clock, at, resumed, unit, cal).deadline, resumed
        return clock.deadline, dispatched

    def _handled_at(self, since: datetime, deadline: datetime, unit: LimitUnit) -> datetime:
        """Counted in the limit's own time, so working-time cases finish in office hours."""
        kind = LimitUnit.WORKING_HOURS if unit.is_working_time else LimitUnit.NATURAL_HOURS
        span = self.calendar.elapsed(since, deadline, kind)
        if self.rng.random() < self.overdue_share:
            return self.calendar.add(deadline, 0.1 + span * self.rng.uniform(0.05, 0.6), kind)
        # Most cases are done well before the limit, a few only just in time.
        used = span * (0.03 + 0.92 * self.rng.betavariate(2, 3))
        return max(self.calendar.add(since, used, kind), since + timedelta(minutes=1))

    def _rework(self, story: _Story, since: datetime, handled: datetime) -> None:
        """A first handling fails the on-site check (返工) before the real one."""
        first = _between(since, handled, 0.3, 0.6, self.rng)
        check = first + min(_minutes(10, 45, self.rng), (handled - first) / 2)
        story.add(first, T.HANDLED)
        story.add(check, T.VERIFIED, passed=False, note="现场核查未处置到位")

    def _oversee(
        self, story: _Story, dispatched: datetime, deadline: datetime, handled: datetime
    ) -> None:
        """Urges (催办) once overdue; now and then a leader's supervision (督办)."""
        if handled > deadline and self.rng.random() < URGE_SHARE:
            for _ in range(self.rng.randint(1, 3)):
                at = _between(deadline, handled, 0.05, 0.95, self.rng)
                story.add(at, T.URGED, by=CENTRE, note="案件已超期，请尽快处置")
        if self.rng.random() < SUPERVISE_SHARE:
            at = _between(dispatched, handled, 0.2, 0.9, self.rng)
            story.add(at, T.SUPERVISED, by=self.rng.choice(LEADERS))


def require_playable(catalogue: Catalogue) -> None:
    """Refuse, as a city's configuration error, a city the simulator cannot play.

    Every report is drawn from the city's categories; its places come from grids,
    outlines or the bbox, which every city that loads has.
    """
    if not catalogue.categories:
        raise ConfigError(
            CATEGORIES_FILE, None, "no categories: the simulator has nothing to report"
        )


class CitySimulator:
    """Cases arriving on the day's rhythm, each played out step by step in time."""

    def __init__(
        self,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        config: SimulatorConfig | None = None,
        start: datetime | None = None,
    ) -> None:
        require_playable(catalogue)
        self.config = config or SimulatorConfig()
        self.rng = random.Random(self.config.seed)
        self.start = _aware(start or datetime.now(UTC), "start")
        self.tz = ZoneInfo(catalogue.timezone)
        city = CityMap(catalogue, self.rng)
        self.planner = _Planner(catalogue, calendar, city, self.rng, self.config.overdue_share)
        self.events_per_case = self._calibrate(catalogue, calendar, city)
        self.case_rate = self.config.rate / self.events_per_case
        # One entry per open case, keyed by its next step's time; seq breaks ties.
        self._heap: list[tuple[float, int, _Story]] = []
        self._seq = itertools.count()
        backfill_from = self.start - timedelta(hours=self.config.backfill_hours)
        self._next_arrival = self._arrival_after(backfill_from.timestamp())

    def _calibrate(self, catalogue: Catalogue, calendar: WorkingCalendar, city: CityMap) -> float:
        """Mean events per case, from sample stories: `rate` counts events, not cases."""
        sampler = _Planner(
            catalogue, calendar, city, random.Random(self.rng.random()), self.config.overdue_share
        )
        step = timedelta(days=1) / CALIBRATION_CASES
        starts = (self.start - step * i for i in range(CALIBRATION_CASES))
        return sum(len(sampler.plan(at).steps) for at in starts) / CALIBRATION_CASES

    def adopt(self, cases: list[OpenCase]) -> int:
        """Play cases an earlier run left open to their end; how many were taken."""
        stories = [self.planner.resume(case, self.start) for case in cases]
        for story in stories:
            if story is not None:
                self._schedule(story)
        return sum(story is not None for story in stories)

    def _arrival_after(self, ts: float) -> float:
        """The next arrival of a Poisson process whose rate follows the rhythm (thinning)."""
        peak = self.case_rate * RHYTHM_PEAK
        while True:
            ts += self.rng.expovariate(peak)
            if self.config.busy:
                return ts
            local = datetime.fromtimestamp(ts, self.tz)
            hour = local.hour + local.minute / 60 + local.second / 3600
            if self.rng.random() * RHYTHM_PEAK < rhythm(hour):
                return ts

    def _schedule(self, story: _Story) -> None:
        if story.steps:
            heapq.heappush(self._heap, (story.steps[-1][0], next(self._seq), story))

    def _emit(self, story: _Story) -> dict[str, Any]:
        ts, type, fields = story.steps.pop()
        return new_event(type, story.case_id, datetime.fromtimestamp(ts, self.tz), **fields or {})

    def due(self, until: datetime) -> list[dict[str, Any]]:
        """All events with `at` <= until not returned before, in time order."""
        limit = _aware(until, "until").timestamp()
        while self._next_arrival <= limit:
            self._schedule(self.planner.plan(datetime.fromtimestamp(self._next_arrival, UTC)))
            self._next_arrival = self._arrival_after(self._next_arrival)
        events = []
        while self._heap and self._heap[0][0] <= limit:
            story = heapq.heappop(self._heap)[2]
            events.append(self._emit(story))
            self._schedule(story)
        return events

    def _backfill_slices(self) -> Iterator[list[dict[str, Any]]]:
        """The backfill in short slices, so a big one never sits in memory at once."""
        at = self.start - timedelta(hours=self.config.backfill_hours)
        while at < self.start:
            at = min(at + BACKFILL_SLICE, self.start)
            yield self.due(at)

    def backfill(self) -> list[dict[str, Any]]:
        """The events of the `backfill_hours` before start, oldest first."""
        return [event for events in self._backfill_slices() for event in events]

    def run(self, producer: Producer, stop: threading.Event, speed: float = 1.0) -> None:
        """Publish the backfill, then the due events every tick in real time until `stop`."""
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        tag = self.planner.tag
        log.info(
            "Simulator %s: %s events/s at x%s from %s", tag, self.config.rate, speed, self.start
        )
        sent = sum(self._publish(producer, events, stop) for events in self._backfill_slices())
        log.info("Simulator %s: backfilled %s events", tag, sent)
        began = time.monotonic()
        while not stop.is_set():
            elapsed = timedelta(seconds=(time.monotonic() - began) * speed)
            sent += self._publish(producer, self.due(self.start + elapsed), stop)
            stop.wait(TICK_SECONDS)
        log.info("Simulator %s: stopped after %s events", tag, sent)

    def _publish(
        self, producer: Producer, events: list[dict[str, Any]], stop: threading.Event
    ) -> int:
        """Send in batches; how many were sent. Event ids make a resend harmless."""
        sent = 0
        for first in range(0, len(events), PUBLISH_BATCH):
            batch = events[first : first + PUBLISH_BATCH]
            if not self._publish_batch(producer, batch, stop):
                break
            sent += len(batch)
        return sent

    def _publish_batch(
        self, producer: Producer, batch: list[dict[str, Any]], stop: threading.Event
    ) -> bool:
        """One batch, retried with backoff while Redis is away; False if stopped first."""
        delay = 0.5
        while not stop.is_set():
            try:
                producer.publish_many(batch)
                return True
            except redis.RedisError as error:
                log.warning(
                    "Simulator %s: publish failed (%s), retrying in %.1fs",
                    self.planner.tag,
                    error,
                    delay,
                )
                stop.wait(delay * random.uniform(1, 1.5))  # jitter: producers don't stampede
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        return False


def _aware(at: datetime, name: str) -> datetime:
    """`at` in UTC; a naive time would be read in the server's zone, so refuse it."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {at.isoformat()}")
    return at.astimezone(UTC)
