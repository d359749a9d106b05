"""Monthly evaluation over a million cases: how long rankings and figures take.

    .venv/bin/python bench/rankings.py [--cases 1000000] [--database-url URL] [--keep]

Writes the cases straight into `cases` with bulk Core inserts (not through the
workflow), with about four versions of each in `case_versions`: six months of 2026
over the city's 38 units, 8 districts and 25 streets, with a realistic mix of
self-handled, rejected, voided, open, suspended, late, reworked, extended and
supervised cases. Then times `ranking` by department and by
district, `figures` for the month, `board_counts` and the wall's `strip`: once cold
(new engine; on SQLite the file is also dropped from the OS page cache) and best of
3 warm. Without --database-url a temporary SQLite file is used and removed; a given
database must have an empty `cases` table.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from dashboard.domain.catalogue import Catalogue, load_catalogue
from dashboard.store import kpis
from dashboard.store.db import init_db, make_engine
from dashboard.store.kpis import Period
from dashboard.store.models import VERSION_COLUMNS, Case, CaseVersion

TZ = "Asia/Shanghai"
FIRST = datetime(2026, 1, 1, tzinfo=ZoneInfo(TZ))
NOW = datetime(2026, 7, 1, tzinfo=ZoneInfo(TZ))  # the six months are all in the past
MONTH = Period.parse("month", "2026-05", TZ)
CHUNK = 20_000
# Shares of report sources; Zhuhai: 46% self-handled (自查自纠), citizen app ~4%.
SOURCES = {"self": 0.42, "inspector": 0.36, "citizen": 0.06, "hotline": 0.1, "video": 0.04}
LIMIT_HOURS = (2, 4, 8, 24, 72)


@dataclass
class City:
    """What the generator draws from: categories, units, streets, and unit quality."""

    categories: list[tuple[str, str, str]]  # kind, code, usual department
    units: list[str]
    streets: list[tuple[str, str]]  # district, street
    quality: dict[str, float]  # chance a unit handles a case in time


def city(catalogue: Catalogue, rng: random.Random) -> City:
    """The generator's view of the catalogue; each unit gets its own quality."""
    units = sorted(catalogue.units)
    return City(
        categories=[(str(c.kind), c.code, c.department) for c in catalogue.categories.values()],
        units=units,
        streets=[(d.code, s.code) for d in catalogue.districts.values() for s in d.streets],
        quality={unit: rng.uniform(0.55, 0.98) for unit in units},
    )


def case_row(n: int, total: int, rng: random.Random, town: City) -> dict[str, Any]:
    """Case n of total as a row of `cases`, in whatever state its story left it."""
    kind, category, usual = rng.choice(town.categories)
    district, street = rng.choice(town.streets)
    # In report order, as live ingest writes them: a month's rows sit together on disk.
    reported = FIRST + (NOW - FIRST) * ((n + rng.random()) / total)
    source = rng.choices(list(SOURCES), weights=list(SOURCES.values()))[0]
    row: dict[str, Any] = dict(
        case_id=f"B{n:08d}", state="reported", kind=kind, category=category,
        urgency="normal", source=source, lon=113.5, lat=22.2, district=district,
        street=street, grid=None, address=None, description=None, department=None,
        reported_at=reported.astimezone(UTC), filed_at=None, dispatched_at=None,
        handled_at=None, closed_at=None, deadline=None, warn_at=None, suspended_at=None,
        limit_value=None, limit_unit=None, closed_on_time=None, extended_hours=0.0,
        extensions=0, returns=0, reworks=0, urges=0, supervised=False, emergency=False,
        updated_at=reported.astimezone(UTC),
    )  # fmt: skip
    if source == "self":
        return {**row, "state": "closed", "closed_at": row["reported_at"], "closed_on_time": True}
    roll = rng.random()
    if roll < 0.03:
        return {**row, "state": "rejected"}
    filed = row["reported_at"] + timedelta(minutes=rng.uniform(2, 30))
    row.update(state="filed", filed_at=filed, updated_at=filed)
    if roll < 0.04:
        return {**row, "state": "voided"}
    department = usual if rng.random() < 0.85 else rng.choice(town.units)
    return dispatched(row, rng, department, town.quality[department])


def dispatched(
    row: dict[str, Any], rng: random.Random, department: str, quality: float
) -> dict[str, Any]:
    """The row after dispatch: handled, closed, late, suspended... as of NOW."""
    at = row["filed_at"] + timedelta(minutes=rng.uniform(5, 40))
    limit = timedelta(hours=rng.choice(LIMIT_HOURS))
    row.update(
        state="dispatched", department=department, dispatched_at=at, updated_at=at,
        deadline=at + limit, warn_at=at + limit * 0.8, limit_value=limit.total_seconds() / 3600,
        limit_unit="natural_hours", supervised=rng.random() < 0.03,
        returns=int(rng.random() < 0.02), urges=int(rng.random() < 0.1),
    )  # fmt: skip
    if rng.random() < 0.05:
        row.update(extensions=1, extended_hours=24.0, deadline=row["deadline"] + timedelta(days=1))
    if rng.random() < 0.02:
        return {**row, "state": "suspended", "suspended_at": at + limit * 0.3}
    in_time = rng.random() < quality
    took = limit * (rng.uniform(0.1, 0.95) if in_time else rng.uniform(1.05, 4.0))
    handled = at + took
    if rng.random() < 0.03 or handled >= NOW:
        return row
    row.update(state="handled", handled_at=handled, updated_at=handled)
    row["reworks"] = int(rng.random() < 0.04)
    closed = handled + timedelta(hours=rng.uniform(0.5, 6))
    if closed >= NOW:
        return row
    on_time = handled < row["deadline"]
    return {**row, "state": "closed", "closed_at": closed, "closed_on_time": on_time}


def chunks(total: int, seed: int, catalogue: Catalogue) -> Iterator[list[dict[str, Any]]]:
    """The generated rows, CHUNK at a time."""
    rng = random.Random(seed)
    town = city(catalogue, rng)
    for first in range(0, total, CHUNK):
        yield [case_row(n, total, rng, town) for n in range(first, min(total, first + CHUNK))]


def generate(engine: Engine, total: int) -> float:
    """Insert `total` cases; seconds taken."""
    started = time.perf_counter()
    with engine.begin() as connection:
        if connection.scalar(select(func.count()).select_from(Case)):
            raise SystemExit("the cases table is not empty; give an empty database")
    for rows in chunks(total, seed=20260501, catalogue=load_catalogue()):
        with engine.begin() as connection:
            connection.execute(insert(Case), rows)
    versions(engine)
    return time.perf_counter() - started


def versions(engine: Engine) -> None:
    """The versions figures read: one per case at each of its times (report, dispatch,
    handling, closure), as the workflow would write about four of them."""
    names = list(VERSION_COLUMNS)
    for moment in (Case.reported_at, Case.dispatched_at, Case.handled_at, Case.closed_at):
        rows = select(*[getattr(Case, n) for n in names], moment).where(moment.is_not(None))
        with engine.begin() as connection:
            connection.execute(insert(CaseVersion).from_select([*names, "at"], rows))


def size(engine: Engine) -> str:
    """The database's size on disk."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return f"{Path(str(engine.url.database)).stat().st_size / 2**20:,.0f} MiB"
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT pg_total_relation_size('cases')"))
    return f"{(found or 0) / 2**20:,.0f} MiB (cases with indexes)"


def evict(engine: Engine) -> None:
    """Drop a SQLite file from the OS page cache, so the next read is truly cold."""
    if engine.dialect.name != "sqlite" or not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(str(engine.url.database), os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(url: str, call: Callable[[Session], Any]) -> tuple[float, float, Any]:
    """Seconds cold (fresh engine, evicted file) and best of 3 warm, and the result."""
    engine = make_engine(url)
    evict(engine)
    with Session(engine) as session:
        started = time.perf_counter()
        result = call(session)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(3):
            started = time.perf_counter()
            call(session)
            warm.append(time.perf_counter() - started)
    engine.dispose()
    return cold, min(warm), result


CALLS: dict[str, Callable[[Session], Any]] = {
    "ranking(May, department)": lambda s: kpis.ranking(s, MONTH, "department", NOW),
    "ranking(May, district)": lambda s: kpis.ranking(s, MONTH, "district", NOW),
    "figures(May)": lambda s: kpis.figures(s, MONTH, None, NOW),
    "figures(May, street)": lambda s: kpis.figures(s, MONTH, "street", NOW),
    "board_counts(now)": lambda s: kpis.board_counts(s, NOW - timedelta(days=3)),
    "strip(30 June 20:00)": lambda s: kpis.strip(s, NOW - timedelta(hours=4), TZ),
}


def plan(engine: Engine) -> list[str]:
    """How SQLite runs the month's cohort query (it should search by dispatch time)."""
    if engine.dialect.name != "sqlite":
        return []
    # A private helper on purpose: the bench checks the very query figures() runs.
    query = kpis._cohort_query(MONTH, MONTH.judged_at(NOW), "department")
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return [row[-1] for row in rows]


def report(url: str, engine: Engine) -> None:
    """Time every call and print the figures."""
    results = {}
    for name, call in CALLS.items():
        cold, warm, results[name] = timed(url, call)
        print(f"{name:28} cold {cold * 1000:7.0f} ms   warm {warm * 1000:7.0f} ms")
    print("query plan:", "; ".join(plan(engine)) or "-")
    overall = results["figures(May)"][0]
    print(
        f"May overall: {overall.dispatched:,} dispatched, closure {overall.closure_rate:.2%}, "
        f"on time {overall.on_time_rate:.2%}, handling {overall.handling_rate:.2%}, "
        f"hours {overall.handling_hours}"
    )
    for line in results["ranking(May, department)"][:3] + results["ranking(May, district)"][:3]:
        print(f"  #{line.rank} {line.code:18} {line.score:6.2f} {line.grade}")


def main() -> None:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file")
    args = parser.parse_args()
    folder = None if args.database_url else Path(tempfile.mkdtemp(prefix="bench-rankings-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    init_db(engine)
    took = generate(engine, args.cases)
    print(f"generated {args.cases:,} cases in {took:.1f} s ({args.cases / took:,.0f}/s)")
    print(f"database: {engine.dialect.name}, {size(engine)}")
    report(url, engine)
    engine.dispose()
    if folder is not None and not args.keep:
        shutil.rmtree(folder)
    elif folder is not None:
        print(f"kept {folder}")


if __name__ == "__main__":
    main()
