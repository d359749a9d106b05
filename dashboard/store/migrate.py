"""Alembic, configured in code: the schema's revision, upgrades, and the models check.

Every function takes a connection its caller opened (usually inside `locked`), so a
migration runs in the caller's transaction and under its lock; nothing here reads a
file outside the package.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text

from dashboard.store.migrations import OPTIONS

SCRIPT_LOCATION = "dashboard.store:migrations"
# The first revision is the schema as main made it before there were migrations.
FIRST = "0001"
# One number for every command hall on a PostgreSQL server: pg_advisory_xact_lock
# takes a bigint, and a hash of the name keeps clear of other applications' locks.
LOCK_KEY = zlib.crc32(b"commandhall schema")


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration: the packaged scripts, with the connection to use."""
    alembic_config = Config()
    alembic_config.set_main_option("script_location", SCRIPT_LOCATION)
    alembic_config.attributes["connection"] = connection
    return alembic_config


@cache
def scripts() -> ScriptDirectory:
    """The packaged migration scripts, read once per process."""
    return ScriptDirectory.from_config(config())


def heads() -> tuple[str, ...]:
    """The revisions nothing revises yet: exactly one, or the history has forked."""
    return tuple(scripts().get_heads())


def head() -> str:
    """The revision the code's models are at."""
    return scripts().get_current_head() or FIRST


def known(revision: str) -> bool:
    """Whether this release ships the revision (a newer release's is unknown here)."""
    return any(script.revision == revision for script in scripts().walk_revisions())


def first_schema() -> MetaData:
    """The tables of the first revision, frozen as main made them."""
    metadata = MetaData()
    module: Any = scripts().get_revision(FIRST).module  # type: ignore[union-attr]
    module.tables(metadata)
    return metadata


def current(connection: Connection) -> str | None:
    """The database's revision; None if it has no `alembic_version` (empty, or older)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to the revision, on the connection."""
    command.upgrade(config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Run the migrations down to the revision ("base": no tables left)."""
    command.downgrade(config(connection), revision)


def stamp(connection: Connection, revision: str) -> None:
    """Record the revision without running anything: the schema is already there."""
    command.stamp(config(connection), revision)


def differences(connection: Connection) -> list[Any]:
    """What the database lacks or has beyond the models, as autogenerate sees it.

    Empty means `alembic check` would pass: no migration is missing.
    """
    context = MigrationContext.configure(connection, opts=OPTIONS)
    return list(compare_metadata(context, OPTIONS["target_metadata"]))


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock, committed at the end.

    Web workers and ingest start together and may all find the schema behind: the
    first to get here migrates, the others wait and then find it done.
    """
    with engine.connect() as connection:
        _lock(connection)
        yield connection
        connection.commit()


def _lock(connection: Connection) -> None:
    backend = connection.dialect.name
    if backend == "postgresql":
        # Released by the transaction's end; DDL is transactional on PostgreSQL.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif backend == "sqlite":
        # The database's write lock, taken now rather than at the first write: the
        # busy timeout (30 s, make_engine) makes a second starter wait for it.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
