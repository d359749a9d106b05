"""One count of every push, so that a screen can tell it missed one.

Each push takes the next number from a Redis hash and is published by the same Lua
script, so numbers reach every subscriber in the order they were taken, whichever
process pushes. The hash also holds an epoch, made when the hash is (re)created, so
a Redis that forgot the count (restarted without persistence) starts a new epoch
instead of repeating numbers. A screen that sees a gap or another epoch loads a
snapshot, which carries the position it was read at.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis

SEQ, EPOCH = "__SEQ__", "__EPOCH__"
# Numbers the message and publishes it in one step: the placeholders are the first
# keys of the message's data, so the first match is theirs.
_PUBLISH = """
redis.call('hsetnx', KEYS[1], 'epoch', ARGV[3])
local seq = redis.call('hincrby', KEYS[1], 'seq', 1)
local epoch = redis.call('hget', KEYS[1], 'epoch')
local text = (string.gsub(ARGV[2], '"__SEQ__"', tostring(seq), 1))
text = (string.gsub(text, '__EPOCH__', epoch, 1))
redis.call('publish', ARGV[1], text)
return seq
"""


class Sequence:
    """The push sequence: (epoch, number)."""

    def __init__(self, connection: redis.Redis, key: str) -> None:
        self.redis, self.key = connection, key

    def publish(self, channel: str, envelope: dict[str, Any], data: dict[str, Any]) -> int:
        """Publish `envelope` whose `data` is [data numbered]; the number it took."""
        numbered = {"seq": SEQ, "epoch": EPOCH, **data}
        text = json.dumps({**envelope, "data": [numbered]}, allow_nan=False)
        new_epoch = uuid.uuid4().hex[:12]
        return int(self.redis.eval(_PUBLISH, 1, self.key, channel, text, new_epoch))  # type: ignore[arg-type]

    def current(self) -> tuple[str, int]:
        """The epoch and the last number taken (0 before the first)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(self.key, "epoch", uuid.uuid4().hex[:12])
        pipe.hmget(self.key, ["epoch", "seq"])
        _, (epoch, number) = pipe.execute()
        return _text(epoch), int(number or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
