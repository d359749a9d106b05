"""The ingest worker archives audit rows past the retention once a day, by itself."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dashboard.process.retention import Chores
from dashboard.process.worker import AuditArchiver, build_ingest
from dashboard.settings import Settings
from dashboard.store.models import AuditEntry


def test_old_audit_rows_are_archived_daily_not_dropped(settings: Settings, engine) -> None:
    """A row past 180 days moves to a gzipped file; a recent one stays; once a day."""
    sessions = sessionmaker(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add(AuditEntry(at=now - timedelta(days=200), actor="old", action="login"))
        session.add(AuditEntry(at=now - timedelta(days=10), actor="new", action="login"))
    archiver = AuditArchiver(settings, sessions)
    assert archiver() == 1
    with sessions() as session:
        assert list(session.scalars(select(AuditEntry.actor))) == ["new"]
    [archive] = (settings.data_path / "audit-archive").glob("*.jsonl.gz")
    with gzip.open(archive, "rt", encoding="utf-8") as lines:
        assert [json.loads(line)["actor"] for line in lines] == ["old"]
    with sessions.begin() as session:
        session.add(AuditEntry(at=now - timedelta(days=300), actor="older", action="login"))
    assert archiver() == 0  # not again the same day


def test_the_ingest_worker_runs_the_archiver(settings: Settings, engine) -> None:
    """build_ingest gives the worker its daily archive (among its chores)."""
    worker = build_ingest(settings, "test-worker")
    assert isinstance(worker.housekeeping, Chores)
    assert any(isinstance(chore, AuditArchiver) for chore in worker.housekeeping.chores)
