"""Database engines: one constructor, SQLite tuned for one writer and many readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, inspect, select
from sqlalchemy.engine import make_url

from dashboard.runtime import private_file, private_folder
from dashboard.store.models import VERSION_COLUMNS, Base, Case, CaseVersion


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL so the web reads while ingest writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        # Password hashes and every case: 0600 (SQLite gives its -wal and -shm files
        # the database's mode), in a folder made 0700 when it is made here.
        path = Path(parsed.database)
        if not path.parent.exists():
            private_folder(path.parent)
        private_file(path)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL: readers never wait for the ingest writer; NORMAL sync is durable in WAL
    # mode except for the last transactions on power loss, which the stream redelivers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_db(engine: Engine) -> None:
    """Create every table that does not exist yet, columns added since, and give older
    stores their case versions."""
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    backfill_versions(engine)


def _add_missing_columns(engine: Engine) -> None:
    # A kept data folder (the demo keeps its city) predates columns added later; new
    # columns are nullable, so ADD COLUMN is all a migration needs here.
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.exec_driver_sql(
                        f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
                    )


def backfill_versions(engine: Engine) -> None:
    """A store from before case versions: one version per case, as it stands now,
    dated at its report so that every period sees it.

    Its past months are then judged exactly as before versions (by the current
    columns and their timestamps); every event from now on adds its own version.
    """
    with engine.begin() as connection:
        if connection.scalar(select(CaseVersion.id).limit(1)) is not None:
            return
        if connection.scalar(select(Case.case_id).limit(1)) is None:
            return
        columns = [getattr(Case, name) for name in VERSION_COLUMNS]
        rows = select(*columns, Case.reported_at)
        connection.execute(insert(CaseVersion).from_select([*VERSION_COLUMNS, "at"], rows))
