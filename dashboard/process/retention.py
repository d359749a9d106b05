"""The active ingest worker's stream retention, run between batches (issue 14).

Every `every_s` it trims the case stream behind the slowest consumer group, keeping
`--stream-retention-days`, and the dead-letter stream by `--dead-letter-retention-days`
(see `streams.retention` for the rule that never drops an unacknowledged entry).
Like the audit archive, nothing needs scheduling and only the worker holding the
lease does it.
"""

from __future__ import annotations

import logging
import time

import redis

from streams.names import dead_letter_key, lane_key
from streams.retention import Trimmed, trim

log = logging.getLogger(__name__)

DAY_S = 86_400.0


class StreamRetention:
    """Trims the case stream, its emergency lane and its dead letters once every `every_s`."""

    def __init__(
        self,
        connection: redis.Redis,
        stream: str,
        keep_days: float,
        dead_keep_days: float,
        every_s: float = 60.0,
        exact: bool = False,
    ) -> None:
        self.redis, self.stream, self.every_s = connection, stream, every_s
        self.exact = exact  # by whole nodes unless told: see streams.retention.trim
        self.keep_s, self.dead_keep_s = keep_days * DAY_S, dead_keep_days * DAY_S
        self._last: float | None = None

    def __call__(self) -> list[Trimmed]:
        """Trim both streams if `every_s` has passed since the last run; what it did."""
        if self._last is not None and time.monotonic() - self._last < self.every_s:
            return []
        self._last = time.monotonic()
        dead = dead_letter_key(self.stream)
        try:
            done = [
                trim(self.redis, self.stream, self.keep_s, exact=self.exact),
                # The emergency lane has the same group: what it applied goes the same way.
                trim(self.redis, lane_key(self.stream), self.keep_s, exact=self.exact),
                trim(self.redis, dead, self.dead_keep_s, grouped=False, exact=self.exact),
            ]
        except redis.ResponseError as error:  # e.g. a Redis before 6.2 (no MINID)
            log.error("Retention %s: not trimmed: %s", self.stream, error)
            return []
        for result in done:
            if result.removed:
                log.info("Retention %s: %d entries trimmed below %s, %d left",
                         result.stream, result.removed, result.bound, result.length)  # fmt: skip
        return done


class Chores:
    """Several housekeeping chores as one: each runs, whatever the one before did."""

    def __init__(self, *chores: object) -> None:
        self.chores = chores

    def __call__(self) -> None:
        """Run every chore in turn; an error in one does not skip the others."""
        failed: Exception | None = None
        for chore in self.chores:
            try:
                chore()  # type: ignore[operator]
            except Exception as error:  # raised again below, once the others ran
                failed = failed or error
        if failed is not None:
            raise failed  # the worker's loop logs it and goes on
