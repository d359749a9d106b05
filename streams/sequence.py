"""One count of every push, so that a screen can tell it missed one.

Each push takes the next number from a Redis hash; the hash also holds an epoch,
made when the hash is (re)created, so that a Redis that forgot the count (restarted
without persistence) starts a new epoch instead of repeating numbers. A screen that
sees a gap, or another epoch, loads a snapshot, which carries the position it was
read at.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis

from streams.names import PUSH_SEQUENCE_KEY


class Sequence:
    """The push sequence: (epoch, number)."""

    def __init__(self, connection: redis.Redis, key: str = PUSH_SEQUENCE_KEY) -> None:
        self.redis, self.key = connection, key

    def next(self) -> tuple[str, int]:
        """Take the next number."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(self.key, "epoch", uuid.uuid4().hex[:12])
        pipe.hincrby(self.key, "seq", 1)
        pipe.hget(self.key, "epoch")
        _, number, epoch = pipe.execute()
        return _text(epoch), int(number)

    def current(self) -> tuple[str, int]:
        """The last number taken (0 before the first)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(self.key, "epoch", uuid.uuid4().hex[:12])
        pipe.hmget(self.key, ["epoch", "seq"])
        _, (epoch, number) = pipe.execute()
        return _text(epoch), int(number or 0)

    def stamp(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message with the next number and the epoch."""
        epoch, number = self.next()
        return {**message, "epoch": epoch, "seq": number}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
