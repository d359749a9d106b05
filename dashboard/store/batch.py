"""Apply batches of stream events to SQL in one transaction, exactly once in effect.

Idempotency rests on the unique `events.event_id`: an event already in the history
changes nothing. Events that break the workflow come back as rejections for the
dead-letter stream; database outages propagate so the caller retries the batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.domain import lifecycle
from dashboard.domain.emergency import Timeline
from dashboard.domain.lifecycle import Rules, TransitionError
from dashboard.store import emergency
from dashboard.store.emergency import load_timeline
from dashboard.store.models import VERSION_COLUMNS, Case, CaseVersion, EventRow
from streams.consumer import Item, Rejection
from streams.names import EVENT_FIELD, CaseState
from streams.schema import Event

log = logging.getLogger(__name__)

# The tables themselves, for Core statements (no ORM bookkeeping per row).
HISTORY = cast(Table, EventRow.__table__)
VERSIONS = cast(Table, CaseVersion.__table__)
CASES = cast(Table, Case.__table__)
CASE_COLUMNS = tuple(column.name for column in CASES.columns)


@dataclass
class BatchResult:
    """What one batch did: applied, already seen, rejected, and cases changed."""

    applied: list[Item] = field(default_factory=list)
    duplicates: list[Item] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    emergency_changed: bool = False

    def merge(self, other: BatchResult) -> None:
        """Add another result's outcome to this one."""
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.cases.update(other.cases)
        self.emergency_changed = self.emergency_changed or other.emergency_changed


@dataclass
class _Batch:
    """What one transaction works on."""

    session: Session
    fresh: set[str]  # event ids whose history row this batch inserted (not seen before)
    # The batch's cases: copies outside the session, written back with Core at the end.
    cases: dict[str, Case]
    timeline: Timeline
    result: BatchResult = field(default_factory=BatchResult)
    refused: set[str] = field(default_factory=set)  # history rows to take back
    new: set[str] = field(default_factory=set)  # cases reported in this batch
    versions: list[dict[str, Any]] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def is_outage(error: BaseException) -> bool:
    """Whether a database error means 'try again later' rather than a bad event."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


class Store:
    """Case storage on one SQLAlchemy engine."""

    def __init__(self, engine: Engine, rules: Rules) -> None:
        self.engine = engine
        self.rules = rules
        # Cases are read after commit to build the live push; keep them loaded.
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # The emergency timeline, kept between batches (issue 14: loading it was a
        # fifth of a live batch). Only the active ingest worker writes emergencies,
        # through this store; a batch with an emergency event loads it fresh in its
        # own transaction and drops the copy, and so does a lease newly taken
        # (another worker may have applied some meanwhile): see `forget`.
        self._timeline: tuple[datetime, Timeline] | None = None

    def apply_batch(self, items: Sequence[Item]) -> BatchResult:
        """Apply a batch in one transaction; isolate an event that fails unexpectedly."""
        try:
            return self._apply_together(items)
        except Exception as error:
            if is_outage(error):
                raise
            if len(items) == 1:
                log.exception("Event %s: failed to apply", items[0].event.event_id)
                return BatchResult(rejected=[items[0].reject(f"internal error: {error}")])
        # One event is poison; apply them one by one so only it is set aside.
        result = BatchResult()
        for item in items:
            result.merge(self.apply_batch([item]))
        return result

    def forget(self) -> None:
        """Drop what is kept between batches: another writer may have changed it."""
        self._timeline = None

    def _apply_together(self, items: Sequence[Item]) -> BatchResult:
        with self.sessions.begin() as session:
            started = datetime.now(UTC)
            timeline, keep = self._timeline_for(session, items)
            batch = _Batch(
                session=session,
                # The unique event_id decides what is new: the history rows go in first
                # (ON CONFLICT DO NOTHING), instead of asking which ids were seen.
                fresh=_insert_history(session, [history_row(i, started) for i in items]),
                cases=self._cases(session, items),
                timeline=timeline,
                started=started,
            )
            for item in items:
                self._apply_one(batch, item)
            if batch.refused:
                session.execute(delete(EventRow).where(EventRow.event_id.in_(batch.refused)))
            _write_cases(session, batch.result.cases, batch.new)
            if batch.versions:
                # Core executemany: the ORM's bulk insert splits the rows wherever their
                # None columns differ (a case's events alternate), one INSERT a row.
                session.execute(insert(VERSIONS), batch.versions)
        # Kept only once committed: a rollback expires what its session loaded.
        self._timeline = keep
        return batch.result

    def _timeline_for(
        self, session: Session, items: Sequence[Item]
    ) -> tuple[Timeline, tuple[datetime, Timeline] | None]:
        """The batch's timeline, and what to keep of it once the batch committed."""
        since = min(item.event.at for item in items)
        kept, self._timeline = self._timeline, None
        if any(item.event.case_id is None for item in items):
            return load_timeline(session, since=since), None  # changes in this batch
        if kept is None or kept[0] > since:
            kept = (since, load_timeline(session, since=since))
        return kept[1], kept

    def _apply_one(self, batch: _Batch, item: Item) -> None:
        event = item.event
        if event.event_id not in batch.fresh:
            batch.result.duplicates.append(item)
            return
        batch.fresh.discard(event.event_id)  # the same id again in the batch is a resend
        try:
            if event.case_id is None:
                self._apply_emergency(batch, event)
            else:
                self._apply_case(batch, event)
        except TransitionError as error:
            # Its history row goes again, and a resend later in the batch is tried anew.
            batch.refused.add(event.event_id)
            batch.fresh.add(event.event_id)
            batch.result.rejected.append(item.reject(f"workflow: {error}"))
            return
        batch.refused.discard(event.event_id)
        batch.result.applied.append(item)

    def _apply_case(self, batch: _Batch, event: Event) -> None:
        assert event.case_id is not None
        level = batch.timeline.level_at(event.at)
        case = lifecycle.apply(
            batch.cases.get(event.case_id), event, self.rules, level, new_case=Case
        )
        if event.case_id not in batch.cases:
            batch.new.add(event.case_id)
        batch.cases[event.case_id] = batch.result.cases[event.case_id] = case
        batch.versions.append(version_row(case, event.at))

    def _apply_emergency(self, batch: _Batch, event: Event) -> None:
        policy = self.rules.policy
        if emergency.apply_event(batch.session, event, policy, batch.timeline):
            batch.result.emergency_changed = True
            active = batch.timeline.active
            if active is not None and policy.tighten_open_cases:
                tightened = tighten_open_cases(
                    batch.session, self.rules, event.at, active.level, batch.cases
                )
                batch.result.cases.update(tightened)
                batch.versions += [version_row(case, event.at) for case in tightened.values()]

    @staticmethod
    def _cases(session: Session, items: Sequence[Item]) -> dict[str, Case]:
        ids = {item.event.case_id for item in items if item.event.case_id}
        return _detached(session, CASES.c.case_id.in_(ids))

    def case(self, case_id: str) -> Case | None:
        """The current state of one case."""
        with self.sessions() as session:
            return session.get(Case, case_id)

    def history(self, case_id: str) -> list[EventRow]:
        """A case's events in the order they were applied."""
        query = select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.id)
        with self.sessions() as session:
            return list(session.scalars(query))


def _insert_history(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the history rows that are new; the event ids that were."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(HISTORY)
    returning = statement.on_conflict_do_nothing(index_elements=["event_id"]).returning(
        HISTORY.c.event_id
    )
    return set(session.scalars(returning, rows))


def _detached(session: Session, condition: Any) -> dict[str, Case]:
    """Cases as records outside the session: no unit of work, no flush.

    The ORM's flush of a batch's cases cost about 5 ms a batch whatever its size,
    most of a live event's CPU (issue 14); they are written back by `_write_cases`.
    """
    rows = session.execute(select(CASES).where(condition)).mappings()
    return {row["case_id"]: Case(**row) for row in rows}


def _write_cases(session: Session, cases: dict[str, Case], new: set[str]) -> None:
    """Insert the batch's new cases and update the others, one executemany each."""
    rows = [{n: vars(c).get(n) for n in CASE_COLUMNS} for c in cases.values()]
    if inserts := [row for row in rows if row["case_id"] in new]:
        session.execute(insert(CASES), inserts)
    if updates := [{**row, "_id": row["case_id"]} for row in rows if row["case_id"] not in new]:
        session.execute(update(CASES).where(CASES.c.case_id == bindparam("_id")), updates)


def tighten_open_cases(
    session: Session, rules: Rules, at: datetime, level: str, cases: dict[str, Case]
) -> dict[str, Case]:
    """Pull in the deadlines of open emergency-class cases to the emergency cap.

    Only when the city's policy says so: by default cases dispatched before the switch
    keep the deadline they were given. The batch's own copies (`cases`) are the cases
    as they stand; the others are read and joined to them.
    """
    cap = timedelta(hours=rules.policy.cap(level))
    classes = {(c.kind.value, c.code) for c in rules.catalogue.categories.values() if c.emergency}
    stored = _detached(
        session, (CASES.c.state == CaseState.DISPATCHED.value) & (CASES.c.deadline > at + cap)
    )
    cases.update({case_id: case for case_id, case in stored.items() if case_id not in cases})
    changed = {}
    for case in list(cases.values()):
        dispatched = case.state == CaseState.DISPATCHED.value
        if not dispatched or case.deadline is None or case.deadline <= at + cap:
            continue
        if case.emergency or (case.kind, case.category) in classes:
            case.deadline, case.warn_at = at + cap, at + cap * rules.warn_ratio
            case.emergency, case.updated_at = True, at
            changed[case.case_id] = case
    return changed


def version_row(case: Case, at: datetime) -> dict[str, Any]:
    """The version row of a case as it stands after a change at `at`."""
    # Read from the instance's own dict: the ORM's attribute access per column was a
    # tenth of bulk ingest. A column missing there (expired, never set) asks the ORM.
    values = vars(case)
    return {
        "at": at,
        **{n: values[n] if n in values else getattr(case, n) for n in VERSION_COLUMNS},
    }


def history_row(item: Item, applied_at: datetime) -> dict[str, Any]:
    """The history row that records an applied event, as column values."""
    event = item.event
    raw = item.fields.get(EVENT_FIELD, item.fields.get(EVENT_FIELD.encode()))
    return {
        "event_id": event.event_id,
        "case_id": event.case_id,
        "type": event.type.value,
        "at": event.at,
        "actor": event.data.get("by"),
        "note": event.data.get("note"),
        # The producer's own words are the record; re-encoding is only a fallback.
        "payload": raw.decode() if isinstance(raw, bytes) else raw or event.to_json(),
        "stream_id": item.stream_id,
        "applied_at": applied_at,
    }


def payload_of(row: EventRow) -> dict[str, object]:
    """The original event of a history row (NaN or Infinity of older rows as null)."""
    body: dict[str, object] = json.loads(row.payload, parse_constant=lambda _: None)
    return body
