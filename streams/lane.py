"""The emergency lane: what overtakes a backlog, and what it must still wait for.

The lane (`lane_key(stream)`) is a second stream that the consumer reads before the
case stream. `emergency.*` events and the hall's actions on a case (urge, supervise,
flag) ride it, so that they reach screens in well under a second even with tens of
thousands of case events queued (issue 14). They may overtake everything except what
they depend on: an entry's *order key* is its case, or "emergency" for emergency
events, and a lane entry is applied only after every entry of the stream with the
same key that was published before it (ids up to its `after` field, which
`Producer.publish_lane` sets atomically; without it, the lane entry's own id is the
bound, both ids coming from one server clock). So an action on a case whose own
events are still queued waits for them: order per case holds, priority is only
over other cases.

What a waiting entry waits for is found by one scan of the stream's unapplied part
(from the group's oldest pending entry, or after its last delivered one, up to the
bound), run inside Redis by a script that returns only the entries whose text could
name the key; those few are parsed here to be sure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from streams.names import AFTER_FIELD
from streams.schema import Event

EMERGENCY_KEY = "emergency"
SCAN_COUNT = 10_000  # entries per script call: Redis is never blocked for long

# KEYS[1] the stream; ARGV: start, end, count, needles… Returns the last id looked
# at ('' when none), how many were, then id and payload of each entry holding a needle.
_SCAN = """
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local out = {'', #entries}
for _, entry in ipairs(entries) do
  out[1] = entry[1]
  local fields, payload = entry[2], ''
  for i = 1, #fields, 2 do
    if fields[i] == 'event' then payload = fields[i + 1] end
  end
  for n = 4, #ARGV do
    if string.find(payload, ARGV[n], 1, true) then
      out[#out + 1] = entry[1]
      out[#out + 1] = payload
      break
    end
  end
end
return out
"""
# A case id is plain ASCII, so JSON can only hide one from a plain search behind a
# \u00XX escape: an entry with one is always looked at.
_ESCAPE = b"\\u00"


def order_key(event: Event) -> str:
    """What an event must stay in order with: its case, or the emergency mode."""
    return event.case_id if event.case_id is not None else EMERGENCY_KEY


def entry_id(text: str) -> tuple[int, int]:
    """A stream entry id as a number pair, to compare ids of two streams."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class Checked(Protocol):
    """A lane entry read and checked (the consumer's `Item`)."""

    @property
    def stream_id(self) -> str: ...
    @property
    def fields(self) -> Any: ...
    @property
    def event(self) -> Event: ...


@dataclass
class Waiting:
    """A lane entry read and checked, until it is applied."""

    item: Any  # the consumer's Item, handed to its handler when ready
    key: str
    bound: str  # the stream's last entry id when it was published
    wait_for: str | None = None  # the stream entry that must be applied first

    @property
    def entry(self) -> tuple[str, Any]:
        """The lane entry, to acknowledge."""
        return self.item.stream_id, self.item.fields


def bound_of(stream_id: str, fields: Any) -> str:
    """The last stream entry published before a lane entry."""
    after = fields.get(AFTER_FIELD, fields.get(AFTER_FIELD.encode()))
    if isinstance(after, bytes):
        after = after.decode("ascii", errors="replace")
    try:
        entry_id(after)
        return str(after)
    except (AttributeError, TypeError, ValueError):
        return stream_id  # published without the script: the same clock decides


class Lane:
    """The lane's entries in hand, and which stream entry each one waits for."""

    def __init__(self, connection: redis.Redis, stream: str, group: str) -> None:
        self.redis, self.stream, self.group = connection, stream, group
        self.waiting: list[Waiting] = []
        self.done_through: str | None = None  # the last stream entry applied here

    def reset(self) -> None:
        """Forget what is in hand: whoever holds the lease claims it again."""
        self.waiting, self.done_through = [], None

    def admit(self, items: Iterable[Checked]) -> None:
        """Take checked lane entries, finding for each what it must wait for."""
        fresh = [Waiting(i, order_key(i.event), bound_of(i.stream_id, i.fields)) for i in items]
        if not fresh:
            return
        end = max((w.bound for w in fresh), key=entry_id)
        found = self._queued({w.key for w in fresh}, end)
        for item in fresh:
            ids = [i for i in found.get(item.key, []) if entry_id(i) <= entry_id(item.bound)]
            # Behind an earlier lane entry of the same key, never before it.
            ids += [w.wait_for for w in self.waiting if w.key == item.key and w.wait_for]
            item.wait_for = max(ids, key=entry_id) if ids else None
            self.waiting.append(item)

    def passed(self, stream_id: str) -> None:
        """The stream's entries up to this one are applied and acknowledged."""
        self.done_through = stream_id

    def before(self, stream_id: str) -> None:
        """This stream entry is the next to apply: every wait for an older one is met.

        (An entry found pending may have been acknowledged already: nothing to wait for.)
        """
        for item in self.waiting:
            if item.wait_for and entry_id(item.wait_for) < entry_id(stream_id):
                item.wait_for = None

    def caught_up(self) -> None:
        """The stream has nothing unapplied: no lane entry waits any more."""
        for item in self.waiting:
            item.wait_for = None

    def ready(self) -> list[Waiting]:
        """The entries that may be applied now, in lane order."""
        done = entry_id(self.done_through) if self.done_through else None
        return [
            w
            for w in self.waiting
            if w.wait_for is None or (done is not None and entry_id(w.wait_for) <= done)
        ]

    def remove(self, applied: Sequence[Waiting]) -> None:
        """Drop entries applied and acknowledged."""
        gone = {id(w) for w in applied}
        self.waiting = [w for w in self.waiting if id(w) not in gone]

    def cut(self, entries: Sequence[tuple[str, Any]]) -> int:
        """How many of these stream entries to apply before a waiting lane entry."""
        waits = [entry_id(w.wait_for) for w in self.waiting if w.wait_for]
        if not waits:
            return len(entries)
        first = min(waits)
        return sum(1 for stream_id, _ in entries if entry_id(stream_id) <= first) or len(entries)

    def _queued(self, keys: set[str], end: str) -> dict[str, list[str]]:
        """Ids of unapplied stream entries up to `end` with one of these keys."""
        needles = [_ESCAPE] + [
            b'"emergency.' if key == EMERGENCY_KEY else json.dumps(key).encode() for key in keys
        ]
        start, found = self._unapplied_start(), dict[str, list[str]]()
        while True:
            reply: Any = self.redis.eval(_SCAN, 1, self.stream, start, end, SCAN_COUNT, *needles)  # type: ignore[arg-type]
            for stream_id, payload in zip(reply[2::2], reply[3::2], strict=True):
                key = _key_of(payload)
                if key in keys:
                    found.setdefault(key, []).append(_text(stream_id))
            if int(reply[1]) < SCAN_COUNT:
                return found
            start = "(" + _text(reply[0])

    def _unapplied_start(self) -> str:
        """Where the stream's entries not yet applied begin (an XRANGE start)."""
        summary: Any = self.redis.xpending(self.stream, self.group)
        if int(summary.get("pending") or 0) > 0:
            return _text(summary["min"])
        for group in self.redis.xinfo_groups(self.stream):
            if _text(group["name"]) == self.group:
                return "(" + _text(group["last-delivered-id"])
        return "-"


def _key_of(payload: Any) -> str | None:
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return None  # it fails the contract and is set aside: nothing to wait for
    if not isinstance(body, dict):
        return None
    if str(body.get("type", "")).startswith("emergency."):
        return EMERGENCY_KEY
    case_id = body.get("case_id")
    return case_id if isinstance(case_id, str) else None


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
