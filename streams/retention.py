"""Stream retention: trim what every group has acknowledged and the retention passed.

A year of a big city must not grow Redis without bound (issue 14). An entry may go
only when no consumer group still needs it: every group has had it delivered
(its id is at or before the group's last-delivered id) and acknowledged it (no
pending entry is older). XTRIM MINID removes the ids below a bound, so the bound is
the lowest of, per group, its oldest pending entry or the entry after its last
delivered one — and never later than the retention's cut-off, so that entries stay
at least that long for replays and inquiries. A stream without groups is not
trimmed (nothing says who has read it); the dead-letter stream has no group and is
trimmed by its own retention only.

Redis keeps the figures (`trimmed_key`): the totals survive a change of the active
worker, and every web process exports the same ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from streams.names import trimmed_key


@dataclass(frozen=True)
class Trimmed:
    """What one trim did to one stream."""

    stream: str
    removed: int
    length: int  # entries left
    bound: str | None  # XTRIM MINID's id; None when nothing may go


def _split(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _after(entry_id: str) -> str:
    """The smallest id greater than this one."""
    ms, seq = _split(entry_id)
    return f"{ms}-{seq + 1}"


def _lower(a: str, b: str) -> str:
    return a if _split(a) <= _split(b) else b


def consumed_bound(connection: redis.Redis, stream: str) -> str | None:
    """The lowest id some group still needs (below it all is acknowledged by all)."""
    try:
        groups = connection.xinfo_groups(stream)
    except redis.ResponseError:  # no such stream
        return None
    if not groups:
        return None
    bound: str | None = None
    for group in groups:
        needed = _after(_text(group["last-delivered-id"]))
        if int(group["pending"]):
            summary: Any = connection.xpending(stream, _text(group["name"]))
            needed = _lower(needed, _text(summary["min"]))
        bound = needed if bound is None else _lower(bound, needed)
    return bound


def trim(
    connection: redis.Redis,
    stream: str,
    keep_s: float,
    *,
    grouped: bool = True,
    exact: bool = False,
    now: float | None = None,
) -> Trimmed:
    """Trim entries older than `keep_s` that (when `grouped`) every group acknowledged.

    Approximate trimming (the default) removes whole nodes of the stream only, so
    Redis does little work per call and may keep a few entries past the bound;
    never fewer. `exact` trims to the entry, for tests and small streams.
    """
    cutoff_ms = int(((time.time() if now is None else now) - keep_s) * 1000)
    bound: str | None = f"{max(cutoff_ms, 0)}-0"
    if grouped:
        consumed = consumed_bound(connection, stream)
        bound = None if consumed is None else _lower(consumed, bound or consumed)
    removed = 0
    if bound is not None:
        # LIMIT bounds the work of one call (only allowed when approximate).
        limit = None if exact else 10_000
        removed = int(connection.xtrim(stream, minid=bound, approximate=not exact, limit=limit))
    length = int(connection.xlen(stream))
    if removed:
        connection.hincrby(trimmed_key(stream), "removed", removed)
    return Trimmed(stream, removed, length, bound)


def read_trimmed(connection: redis.Redis, stream: str) -> int:
    """How many entries retention has removed from this stream, in all."""
    return int(connection.hget(trimmed_key(stream), "removed") or 0)
