"""Password guesses reserved before the password is checked, per account and address.

Flask-Limiter counted a failure after the view had checked the password, so 40
attempts sent at once were all checked before the first was counted: 39 wrong and
the right one signed in, against a limit of 5 (issue 20). Here every attempt first
takes a place in Redis — one Lua script `INCR`s each counter and gives a new one its
expiry, atomically, shared by every web process — and only an attempt whose places
are all within their limits has its password checked. A right password gives its
place back, so only failures hold places and a commander who signs in often is never
locked; a wrong one keeps it until the window (`login_lockout_s`) that began with the
first of them ends. Counts are of attempts, not of distinct passwords.

While Redis does not answer, each process counts in its own memory, so an outage
neither locks everybody out nor lifts the limit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)

# KEYS: the counters; ARGV[1]: the window in seconds. A counter without an expiry
# (whatever made it) gets one too, so none can lock for ever.
RESERVE = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""
# A place given back after its counter expired must not leave a count below zero.
RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
"""


@dataclass
class Attempt:
    """One reserved attempt: whether it may be checked, and its places to give back."""

    throttle: Throttle
    keys: list[str]
    over: list[str]  # the subjects whose limit it is beyond

    @property
    def allowed(self) -> bool:
        """Whether the password may be checked."""
        return not self.over

    def give_back(self) -> None:
        """The password was right: this attempt holds no place any more."""
        self.throttle.release(self.keys)


@dataclass
class _Memory:
    """Counters of this process alone, for while Redis is away."""

    counts: dict[str, tuple[int, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self, keys: Sequence[str], window: float) -> list[int]:
        now = time.monotonic()
        with self.lock:
            for key in keys:
                count, until = self.counts.get(key, (0, 0.0))
                self.counts[key] = (count + 1, until) if until > now else (1, now + window)
            return [self.counts[key][0] for key in keys]

    def release(self, keys: Sequence[str]) -> None:
        with self.lock:
            for key in keys:
                count, until = self.counts.get(key, (1, 0.0))
                self.counts[key] = (max(0, count - 1), until)


class Throttle:
    """Attempts per subject (an account, an address) within a window, in Redis."""

    def __init__(self, client: redis.Redis, prefix: str, window_s: float) -> None:
        self.client, self.prefix = client, prefix
        self.window = max(1, round(window_s))
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)
        self._memory = _Memory()

    def key(self, subject: str) -> str:
        """The counter of a subject; user input is hashed, so any name makes a short key."""
        kind, _, name = subject.partition(":")
        digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:32]
        return f"{self.prefix}:{kind}:{digest}"

    def reserve(self, limits: Sequence[tuple[str, int]]) -> Attempt:
        """Take a place under each (subject, limit); checked before any password is."""
        keys = [self.key(subject) for subject, _ in limits]
        counts = self._counts(keys)
        over = [
            subject for (subject, limit), count in zip(limits, counts, strict=True) if count > limit
        ]
        return Attempt(self, keys, over)

    def release(self, keys: Sequence[str]) -> None:
        """Give one place back under each counter."""
        try:
            self._release(keys=list(keys))
        except (redis.ConnectionError, redis.TimeoutError):
            self._memory.release(keys)

    def _counts(self, keys: list[str]) -> list[int]:
        try:
            return [int(n) for n in self._reserve(keys=keys, args=[self.window])]
        except (redis.ConnectionError, redis.TimeoutError) as error:
            log.warning("Throttle: Redis unreachable (%s); counting in this process", error)
            return self._memory.reserve(keys, self.window)
