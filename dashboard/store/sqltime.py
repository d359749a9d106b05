"""SQL that SQLite and PostgreSQL write differently, behind one expression each.

KPIs and reports compute durations and hour buckets in SQL, not in Python; these
elements compile to each dialect's own arithmetic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class SecondsBetween(FunctionElement[float]):
    """Seconds from the first time to the second, written for each dialect."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(SecondsBetween)
def _seconds_standard(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: timestamp minus timestamp is an interval.
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores times as text; julianday() reads them as fractional days, whose
    # doubles are good to ~50 µs this far from year 0: round to the millisecond.
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


class FloorOf(FunctionElement[int]):
    """The whole part of a number that is never negative."""

    type = Integer()
    name = "floor_of"
    inherit_cache = True


@compiles(FloorOf)
def _floor_standard(element: FloorOf, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's CAST rounds to the nearest integer: floor first.
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(FloorOf, "sqlite")
def _floor_sqlite(element: FloorOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite has floor() only when built with its math functions; CAST truncates,
    # which is the floor for the numbers this is used on.
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"
