"""Alembic migrations: empty to head, one head, models equal to the migrated schema,
the round trip, a database made by main with data in it, and starts at once.

Each test runs on SQLite and, where COMMANDHALL_TEST_POSTGRES_URL is set, on
PostgreSQL in a schema of its own (as tests/conftest.py's postgres_store does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.orm import sessionmaker

from dashboard.cli import main
from dashboard.domain.access import Role
from dashboard.domain.lifecycle import Rules
from dashboard.process import demo
from dashboard.runtime import StartupError
from dashboard.settings import Settings
from dashboard.store import audit, migrate
from dashboard.store.accounts import Accounts
from dashboard.store.apikeys import ApiKeys
from dashboard.store.batch import Store
from dashboard.store.db import SchemaBehind, init_db, make_engine
from dashboard.store.models import Base
from tests.test_emergency import raised
from tests.test_kpis import apply, march_events

Database = Callable[[], Engine]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Engines on one empty database of this test's own (a new engine per call)."""
    engines: list[Engine] = []

    def kept(engine: Engine) -> Engine:
        engines.append(engine)
        return engine

    try:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'hall.db'}"
            yield lambda: kept(make_engine(url))
        else:
            yield from _postgres(kept)
    finally:
        for engine in engines:
            engine.dispose()


def _postgres(kept: Callable[[Engine], Engine]) -> Iterator[Database]:
    url = os.environ.get("COMMANDHALL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("COMMANDHALL_TEST_POSTGRES_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    # A start that waits on a lock fails after 20 s instead of hanging the suite.
    options = {"options": f"-csearch_path={schema} -clock_timeout=20s"}
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield lambda: kept(create_engine(url, connect_args=options))
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def filled(engine: Engine, rules: Rules) -> None:
    """A month of cases with their history, an emergency, users, a wall token, an API
    key and audit rows, written by the store and the account code."""
    store = Store(engine, rules)
    apply(store, march_events())
    apply(store, [raised("yellow")])
    sessions = sessionmaker(engine, expire_on_commit=False)
    accounts = Accounts(sessions)
    accounts.create_user("commander", "correct horse battery", Role.COMMANDER)
    accounts.create_token("wall-1")
    ApiKeys(sessions).create("open-data")
    with sessions.begin() as session:
        audit.record(session, "cli:root", "users.create", "ok", user="commander")


def made_by_main(engine: Engine, rules: Rules) -> None:
    """A database as main left it: main's tables with data in them, no alembic_version.

    Filled at the head by today's code, then taken down to revision 0001 (which is
    main's create_all of main's tables, frozen) and its alembic_version dropped, so
    it stays main's database when later revisions change the models.
    """
    init_db(engine)
    filled(engine, rules)
    with engine.connect() as connection:
        migrate.downgrade(connection, migrate.FIRST)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.commit()


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of main's tables (their columns only), in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))
            ]
            for table in migrate.first_schema().sorted_tables
        }


def revision(engine: Engine) -> str | None:
    """The database's Alembic revision."""
    with engine.connect() as connection:
        return migrate.current(connection)


def problems(engine: Engine) -> list[str]:
    """How the database differs from the models (`commandhall db check`)."""
    with engine.connect() as connection:
        return migrate.problems(connection)


def test_the_history_has_exactly_one_head() -> None:
    """No two migrations revise the same one: a merge that forked the history fails."""
    assert len(migrate.heads()) == 1


def test_an_empty_database_is_upgraded_to_the_head(database: Database) -> None:
    """init_db on an empty database runs every migration and records the head."""
    engine = database()
    init_db(engine)
    assert revision(engine) == migrate.head()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_migrated_database_equals_the_models(database: Database) -> None:
    """After the migrations autogenerate finds nothing to add: no migration is missing."""
    engine = database()
    init_db(engine)
    assert problems(engine) == []


def test_downgrade_to_base_then_upgrade_gives_the_models_again(database: Database) -> None:
    """Every migration's downgrade undoes it: base has no tables, the head is whole again."""
    engine = database()
    init_db(engine)
    with engine.connect() as connection:
        migrate.downgrade(connection, "base")
        connection.commit()
    assert set(Base.metadata.tables) & set(inspect(engine).get_table_names()) == set()
    with engine.connect() as connection:
        migrate.upgrade(connection)
        connection.commit()
    assert problems(engine) == []


def test_a_database_made_by_main_is_upgraded_with_every_row_kept(
    database: Database, rules: Rules
) -> None:
    """main's tables with data, no alembic_version: init_db stamps and upgrades, losing nothing."""
    engine = database()
    made_by_main(engine, rules)
    before = rows(engine)
    init_db(engine)
    assert revision(engine) == migrate.head()
    assert problems(engine) == []
    assert rows(engine) == before


def test_a_database_from_todays_main_create_all_is_upgraded_with_every_row_kept(
    database: Database, rules: Rules
) -> None:
    """Literally what main does today, Base.metadata.create_all, then the upgrade."""
    if migrate.head() != migrate.FIRST:
        pytest.skip("the models moved on from main's schema; made_by_main covers it")
    engine = database()
    Base.metadata.create_all(engine)
    filled(engine, rules)
    before = rows(engine)
    init_db(engine)
    assert revision(engine) == migrate.head()
    assert rows(engine) == before


def test_the_data_made_by_main_is_really_there(database: Database, rules: Rules) -> None:
    """The database the upgrade test starts from holds cases, history, users and audit."""
    engine = database()
    made_by_main(engine, rules)
    counts = {name: len(found) for name, found in rows(engine).items()}
    for table in ("cases", "events", "case_versions", "users", "audit", "emergencies"):
        assert counts[table] > 0, table


def test_starts_without_the_upgrade_flag_refuse_a_database_made_by_main(
    database: Database, rules: Rules
) -> None:
    """serve and ingest (db_upgrade off) leave an older schema alone and say what to run."""
    engine = database()
    made_by_main(engine, rules)
    with pytest.raises(SchemaBehind, match="commandhall db upgrade"):
        init_db(engine, upgrade=False)
    assert revision(engine) is None


def test_starts_without_the_upgrade_flag_create_an_empty_database(database: Database) -> None:
    """A fresh install needs no flag: an empty database is created at the head."""
    engine = database()
    init_db(engine, upgrade=False)
    assert revision(engine) == migrate.head()


def test_three_starts_at_once_leave_one_schema_at_the_head(database: Database) -> None:
    """Web workers and ingest starting together on an empty database all succeed."""
    engines = [database() for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            init_db(engine, upgrade=False)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engines[0].connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    assert problems(engines[0]) == []


def test_a_revision_from_a_newer_release_is_not_upgraded(database: Database) -> None:
    """An unknown revision (a newer release migrated) stops an upgrade with one line."""
    engine = database()
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'newer'"))
    with pytest.raises(StartupError, match="newer release"):
        init_db(engine)


def test_a_revision_from_a_newer_release_does_not_stop_a_start(database: Database) -> None:
    """During a rolling upgrade the previous release still starts on the newer schema."""
    engine = database()
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'newer'"))
    init_db(engine, upgrade=False)
    assert revision(engine) == "newer"


def test_the_demo_upgrades_a_database_made_by_main(tmp_path: Path, rules: Rules) -> None:
    """The demo keeps its data folder, so it always upgrades what it finds there."""
    settings = Settings(data_dir=str(tmp_path / "data"))
    engine = make_engine(settings.resolved_database_url)
    made_by_main(engine, rules)
    demo.prepare(settings, settings.data_path)
    assert revision(engine) == migrate.head()
    engine.dispose()


def migrated_then(tmp_path: Path, statement: str) -> str:
    """The URL of a new SQLite database migrated to head, then changed by one statement."""
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    engine = make_engine(url)
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()
    return url


def test_db_check_exits_non_zero_naming_what_differs(tmp_path: Path) -> None:
    """`commandhall db check` fails on a database without an index the models declare."""
    url = migrated_then(tmp_path, "DROP INDEX ix_audit_at")
    result = CliRunner().invoke(main, ["db", "check", "--database-url", url])
    assert result.exit_code == 1
    assert "add_index ix_audit_at" in result.output


def test_db_check_passes_on_an_upgraded_database(tmp_path: Path) -> None:
    """`commandhall db upgrade` then `db check` on a new database: exit 0."""
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = runner.invoke(main, ["db", "check", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "matches the models" in result.output


def test_db_check_fails_on_a_database_not_yet_upgraded(tmp_path: Path, rules: Rules) -> None:
    """A database made by main has main's tables but no revision: check says so."""
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    engine = make_engine(url)
    made_by_main(engine, rules)
    engine.dispose()
    result = CliRunner().invoke(main, ["db", "check", "--database-url", url])
    assert result.exit_code == 1
    assert f"at revision none, not {migrate.head()}" in result.output


def test_no_migration_is_written_while_the_models_equal_the_head() -> None:
    """`commandhall db revision` writes nothing when autogenerate finds nothing."""
    assert migrate.new_revision("nothing") is None


def test_db_check_names_a_column_the_models_lack(tmp_path: Path) -> None:
    """A column beyond the models is reported by table and name, not a traceback."""
    url = migrated_then(tmp_path, "ALTER TABLE audit ADD COLUMN stray VARCHAR(8)")
    result = CliRunner().invoke(main, ["db", "check", "--database-url", url])
    assert result.exit_code == 1
    assert "remove_column audit stray" in result.output


@pytest.mark.parametrize("command", ["serve", "ingest"])
def test_a_start_on_an_older_database_is_one_line_naming_the_command(
    command: str, tmp_path: Path, redis_url: str, rules: Rules
) -> None:
    """serve and ingest without --db-upgrade stop on main's database: one line, exit 2."""
    settings = Settings(data_dir=str(tmp_path / "data"))
    engine = make_engine(settings.resolved_database_url)
    made_by_main(engine, rules)
    engine.dispose()
    env = {**os.environ, "COMMANDHALL_DATA_DIR": settings.data_dir}
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", command, "--redis-url", redis_url, "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("commandhall: the database is from before migrations")
    assert "commandhall db upgrade" in result.stderr
