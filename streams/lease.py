"""A lease in Redis: one holder at a time, lost within seconds when the holder dies.

The holder is a token unique to the process (a restart under the same name is a new
holder), set with SET NX PX and renewed by a script that extends it only for its own
holder. A standby asks again every third of the lease; a partitioned stream later
has one lease per partition, and a worker may hold several.
"""

from __future__ import annotations

import logging
import time
import uuid

import redis

log = logging.getLogger(__name__)

# 1: renewed, 2: acquired (was free), 0: another holder has it.
_HOLD = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Lease:
    """A renewable lease on one key, for one holder."""

    def __init__(self, connection: redis.Redis, key: str, name: str, ttl_ms: int) -> None:
        self.redis, self.key, self.ttl_ms = connection, key, ttl_ms
        self.token = f"{name}:{uuid.uuid4().hex[:12]}"
        self.held = False
        self.fresh = False  # acquired by the last hold(): what others left is ours now
        self._renewed = 0.0

    @property
    def wait_s(self) -> float:
        """How long a standby waits before asking again."""
        return self.ttl_ms / 3000

    def hold(self) -> bool:
        """Acquire or renew the lease; whether we hold it now."""
        self.fresh = False
        # Renewed at most five times a lease: a batch starts with 4/5 of it left.
        if self.held and time.monotonic() - self._renewed < self.ttl_ms / 5000:
            return True
        answer = int(self.redis.eval(_HOLD, 1, self.key, self.token, self.ttl_ms))  # type: ignore[arg-type]
        was_held, self.held = self.held, answer > 0
        self.fresh = answer == 2 or (self.held and not was_held)
        if self.held:
            self._renewed = time.monotonic()
        elif was_held:
            log.warning("Lease %s: lost to another holder", self.key)
        return self.held

    def release(self) -> None:
        """Give the lease up so a standby takes over at once."""
        if self.held:
            self.held = False
            self.redis.eval(_RELEASE, 1, self.key, self.token)  # type: ignore[arg-type]

    def holder(self) -> str | None:
        """The token of whoever holds the lease now."""
        value = self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value
