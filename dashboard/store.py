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
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import lifecycle
from dashboard.lifecycle import Rules, TransitionError
from dashboard.models import Case, EventRow
from streams.consumer import Item, Rejection

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What one batch did: applied, already seen, rejected, and cases changed."""

    applied: list[Item] = field(default_factory=list)
    duplicates: list[Item] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        """Add another result's outcome to this one."""
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.cases.update(other.cases)


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

    def _apply_together(self, items: Sequence[Item]) -> BatchResult:
        with self.sessions.begin() as session:
            result = BatchResult()
            seen = self._seen(session, items)
            cases = self._cases(session, items)
            for item in items:
                self._apply_one(session, item, seen, cases, result)
            return result

    def _apply_one(
        self,
        session: Session,
        item: Item,
        seen: set[str],
        cases: dict[str, Case],
        result: BatchResult,
    ) -> None:
        event = item.event
        if event.event_id in seen:
            result.duplicates.append(item)
            return
        try:
            if event.case_id is not None:
                case = lifecycle.apply(cases.get(event.case_id), event, self.rules)
                if event.case_id not in cases:
                    session.add(case)
                cases[event.case_id] = result.cases[event.case_id] = case
        except TransitionError as error:
            result.rejected.append(item.reject(f"workflow: {error}"))
            return
        seen.add(event.event_id)
        session.add(history_row(item))
        result.applied.append(item)

    @staticmethod
    def _seen(session: Session, items: Sequence[Item]) -> set[str]:
        ids = {item.event.event_id for item in items}
        query = select(EventRow.event_id).where(EventRow.event_id.in_(ids))
        return set(session.scalars(query))

    @staticmethod
    def _cases(session: Session, items: Sequence[Item]) -> dict[str, Case]:
        ids = {item.event.case_id for item in items if item.event.case_id}
        query = select(Case).where(Case.case_id.in_(ids))
        return {case.case_id: case for case in session.scalars(query)}

    def case(self, case_id: str) -> Case | None:
        """The current state of one case."""
        with self.sessions() as session:
            return session.get(Case, case_id)

    def history(self, case_id: str) -> list[EventRow]:
        """A case's events in the order they were applied."""
        query = select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.id)
        with self.sessions() as session:
            return list(session.scalars(query))


def history_row(item: Item) -> EventRow:
    """The history row that records an applied event."""
    event = item.event
    return EventRow(
        event_id=event.event_id,
        case_id=event.case_id,
        type=event.type.value,
        at=event.at,
        actor=event.data.get("by"),
        note=event.data.get("note"),
        payload=event.to_json(),
        stream_id=item.stream_id,
        applied_at=datetime.now(UTC),
    )


def payload_of(row: EventRow) -> dict[str, object]:
    """The original event of a history row."""
    body: dict[str, object] = json.loads(row.payload)
    return body
