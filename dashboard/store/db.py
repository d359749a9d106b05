"""Database engines (SQLite tuned for one writer and many readers) and the schema's
start: create, adopt or upgrade it with the migrations (dashboard/store/migrate.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, insert, inspect, select
from sqlalchemy.engine import make_url

from dashboard.runtime import StartupError, private_file, private_folder
from dashboard.store import migrate
from dashboard.store.models import VERSION_COLUMNS, Base, Case, CaseVersion

log = logging.getLogger(__name__)


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


class SchemaBehind(StartupError):
    """The database's schema is older than the code's and upgrading was not asked for."""


def init_db(engine: Engine, *, upgrade: bool = True) -> None:
    """Bring the database to the code's schema, and give older stores their versions.

    An empty database gets every migration; one made before migrations (tables but
    no `alembic_version`) is completed to the first revision, stamped, then upgraded;
    an up-to-date one is left alone. With `upgrade` false (serve and ingest without
    `--db-upgrade`) only an empty database is created: an older one is refused, so
    that a production database changes only when its operator says so.
    """
    if _up_to_date(engine):
        return
    with migrate.locked(engine) as connection:
        # Decided under the lock: another process may have migrated while we waited.
        revision = _revision(connection)
        if revision not in (_EMPTY, _UNVERSIONED) and not migrate.known(revision):
            _newer(revision, upgrade)
            return
        if not upgrade and revision not in (migrate.head(), _EMPTY):
            raise SchemaBehind(_behind(revision))
        if revision is _UNVERSIONED:
            _adopt(connection)
        if revision != migrate.head():
            migrate.upgrade(connection)
            log.info("Database schema %s: upgraded to %s", revision, migrate.head())
        backfill_versions(connection)


# What _revision says of a database with no alembic_version: none of our tables yet,
# or main's tables from before migrations.
_EMPTY = "<empty>"
_UNVERSIONED = "<made before migrations>"


def _revision(connection: Connection) -> str:
    revision = migrate.current(connection)
    if revision is not None:
        return revision
    present = set(inspect(connection).get_table_names())
    return _UNVERSIONED if present & set(Base.metadata.tables) else _EMPTY


def _up_to_date(engine: Engine) -> bool:
    with engine.connect() as connection:
        return migrate.current(connection) == migrate.head() and not _needs_backfill(connection)


def _newer(revision: str, upgrade: bool) -> None:
    # A newer release migrated this database (a rolling upgrade): its migrations are
    # meant to keep the previous release working, so only an upgrade is refused.
    if upgrade:
        raise StartupError(
            f"the database is at revision {revision}, which this release does not know: "
            "a newer release upgraded it"
        )
    log.warning("Database at revision %s, newer than this release's %s", revision, migrate.head())


def _behind(revision: str) -> str:
    made = "from before migrations" if revision is _UNVERSIONED else f"at revision {revision}"
    return (
        f"the database is {made}, this release needs revision {migrate.head()}: "
        "back it up, then run `commandhall db upgrade` (or start with --db-upgrade)"
    )


def _adopt(connection: Connection) -> None:
    # A database main made has exactly the first revision's tables; an older data
    # folder (the demo keeps its city) may lack tables or columns added later, all
    # nullable, so CREATE TABLE and ADD COLUMN complete it to the first revision.
    first = migrate.first_schema()
    first.create_all(connection)
    _add_missing_columns(connection, first)
    for table in first.sorted_tables:
        for index in table.indexes:
            index.create(connection, checkfirst=True)
    migrate.stamp(connection, migrate.FIRST)


def _add_missing_columns(connection: Connection, metadata: MetaData) -> None:
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=connection.dialect)
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
                )


def _needs_backfill(connection: Connection) -> bool:
    if connection.scalar(select(CaseVersion.id).limit(1)) is not None:
        return False
    return connection.scalar(select(Case.case_id).limit(1)) is not None


def backfill_versions(connection: Connection) -> None:
    """A store from before case versions: one version per case, as it stands now,
    dated at its report so that every period sees it.

    Its past months are then judged exactly as before versions (by the current
    columns and their timestamps); every event from now on adds its own version.
    """
    if not _needs_backfill(connection):
        return
    columns = [getattr(Case, name) for name in VERSION_COLUMNS]
    rows = select(*columns, Case.reported_at)
    connection.execute(insert(CaseVersion).from_select([*VERSION_COLUMNS, "at"], rows))
