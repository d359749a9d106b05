"""The audit trail: append-only, queried by the admin page, archived after retention.

等保 level 3 asks for a security audit kept at least six months. Rows older than the
retention are written to a gzipped JSON-lines file in the data folder, then removed
from the table, in that order, so nothing leaves silently.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.store.models import AuditEntry

MIN_RETENTION_DAYS = 180


def record(
    session: Session,
    actor: str | None,
    action: str,
    result: str,
    address: str | None = None,
    **detail: Any,
) -> None:
    """Add an audit row in the caller's transaction."""
    clean = {k: v for k, v in detail.items() if v is not None}
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            result=result,
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
