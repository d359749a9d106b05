"""The audit trail: one writer, append-only, queried by the admin page, archived.

Every row is written by `record` (issue 20: there were two writers, and one guessed
the result from the action's name, so refused case actions were stored as "ok"):

- `at` is the server's clock when the row was written, never a producer's time
  (a stream event's own time goes in the detail as `event_at`), so nobody outside
  can date a row into the past, where the archive would take it at once;
- `actor` is who did it: a user name, `key:<name>` for an API key,
  `display:<token>` for a wall, and `stream:<by>` for a row the ingest worker
  writes from an event, so a producer writing `"by": "adm"` never appears as the
  administrator `adm`;
- `result` is said by the caller, one of `Result`;
- `address` is the client's address (behind `--trusted-proxies`, the proxy's view).

等保 level 3 asks for a security audit kept at least six months. Rows older than the
retention are written to a gzipped JSON-lines file in the data folder, then removed
from the table, in that order, so nothing leaves silently.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.store.models import AuditEntry

MIN_RETENTION_DAYS = 180
STREAM = "stream:"  # the actor's prefix on rows written from stream events
ACTOR_LENGTH = 128  # AuditEntry.actor's column


class Result(StrEnum):
    """How an audited attempt ended."""

    OK = "ok"  # done (or, from the stream, applied)
    REFUSED = "refused"  # not allowed, or not valid: nothing was done
    FAILED = "failed"  # a sign-in with an unknown name or a wrong password
    DISABLED = "disabled"  # a sign-in to a disabled account
    LOCKED = "locked"  # a sign-in refused by the lock-out, before any check


def stream_actor(by: str | None) -> str:
    """The actor of a row written from a stream event: `stream:` and its `by`."""
    return STREAM + (by or "")


def record(
    session: Session,
    actor: str | None,
    action: str,
    result: Result | str,
    address: str | None = None,
    *,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """Add an audit row in the caller's transaction (`at` defaults to now)."""
    clean = {k: v for k, v in detail.items() if v is not None}
    session.add(
        AuditEntry(
            at=at or datetime.now(UTC),
            # `stream:` and a 128-character `by` would not fit PostgreSQL's column.
            actor=None if actor is None else actor[:ACTOR_LENGTH],
            action=action,
            result=Result(result).value,  # an unknown result is a bug: refused here
            address=address,
            detail=json.dumps(clean, ensure_ascii=False) if clean else None,
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the admin page; None matches everything."""

    actor: str | None = None
    action: str | None = None
    result: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 500


def search(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Audit rows matching the filters, newest first."""
    found = select(AuditEntry)
    if query.actor:
        found = found.where(AuditEntry.actor == query.actor)
    if query.action:
        found = found.where(AuditEntry.action.startswith(query.action))
    if query.result:
        found = found.where(AuditEntry.result == query.result)
    if query.start:
        found = found.where(AuditEntry.at >= query.start)
    if query.end:
        found = found.where(AuditEntry.at < query.end)
    order = found.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(session.scalars(order.limit(query.limit)))


def as_dict(row: AuditEntry) -> dict[str, Any]:
    """One row as plain values."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "result": row.result,
        "address": row.address,
        "detail": row.detail,
    }


def archive(sessions: sessionmaker, folder: Path, retention_days: int, now: datetime) -> int:
    """Move rows older than the retention into an archive file; how many moved."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"audit retention must be at least {MIN_RETENTION_DAYS} days")
    cutoff = now - timedelta(days=retention_days)
    with sessions.begin() as session:
        rows = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.at < cutoff).order_by(AuditEntry.id)
            )
        )
        if not rows:
            return 0
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"audit-{now.astimezone(UTC):%Y%m%dT%H%M%S}.jsonl.gz"
        with gzip.open(path, "at", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(as_dict(row), ensure_ascii=False) + "\n")
        # Deleted only once the file is written and closed, in the same transaction.
        session.execute(delete(AuditEntry).where(AuditEntry.id.in_([r.id for r in rows])))
    return len(rows)
