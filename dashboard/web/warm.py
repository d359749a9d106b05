"""The screens' snapshot, kept warm in each web process instead of read per request.

Reading every open case, the KPI strip and the units' rates from the database took
seconds at 100,000 open cases, on every page load and every resync. Each web process
already hears every push, in order, on the Socket.IO channel (it relays them to its
screens), and the pushes carry everything a snapshot holds: so it reads the snapshot
from the database once and then applies each push to it in memory.

Consistency is the push count's (streams/sequence.py): the listener is subscribed
before the count is read and the database after it, so every push numbered up to
the count is in what was read and every later one is applied on top; a push that is
not the next number (a lost message, another epoch) or a listener that was cut off
makes the snapshot cold, and the next request reads it again.

Serving: the body is serialized and gzipped at most every `rebuild_s` (and when the
pushes since would make a long tail; at 100,000 open cases a body takes 0.4 s); in
between a request gets that body at its position plus the pushes after it
(`pushes`), which the screen applies in order, so it is never behind the count.
The compressor's state after the body is kept, so each request compresses only its
tail.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from dashboard.store.snapshot import COLUMNS
from streams.names import Push

log = logging.getLogger(__name__)

Snapshot = dict[str, Any]
_OPEN_COLUMN = COLUMNS.index("st")


@dataclass
class _State:
    """The snapshot as of push `seq` of `epoch`, and the pushes since its body."""

    epoch: str
    seq: int
    open_states: frozenset[str]
    cases: dict[str, list[Any]]
    fields: dict[str, Any]  # kpis, units, emergency, build: what is not cases
    tail: list[list[Any]] = field(default_factory=list)  # [event, message] since `body`
    body: _Body | None = None


@dataclass
class _Body:
    """A serialized snapshot: the JSON object's start (no closing brace), gzipped."""

    seq: int
    made: float
    plain: bytes
    gzip_head: bytes
    compressor: Any  # zlib's compress object, positioned after `gzip_head`


class WarmSnapshot:
    """The snapshot one web process keeps current from the pushes it hears."""

    def __init__(
        self,
        cold: Callable[[], Snapshot],
        listen: Callable[[], None],
        open_states: frozenset[str],
        *,
        rebuild_s: float = 5.0,
        max_tail: int = 200,
        subscribe_timeout_s: float = 5.0,
    ) -> None:
        self._cold, self._listen, self._open = cold, listen, open_states
        self.rebuild_s, self.max_tail, self.subscribe_timeout_s = (
            rebuild_s,
            max_tail,
            subscribe_timeout_s,
        )
        self._lock = threading.Lock()  # the state (gevent patches it into a greenlet lock)
        self._build = threading.Lock()  # one reading of the database at a time
        self._subscribed = threading.Event()
        self._cut_off = False  # the listener was subscribed once and lost since
        self._state: _State | None = None
        self._buffer: list[tuple[str, dict[str, Any]]] | None = None  # while reading
        self.reads = 0  # how often the database was read (for tests and /healthz)
        self.read_s: float | None = None  # how long the last reading took

    # -- the listener's side: every message of the channel, in order --------------

    def subscribed(self) -> None:
        """The listener (re)subscribed: anything before it may be missing."""
        with self._lock:
            self._state = None
        self._cut_off = False
        self._subscribed.set()

    def lost(self) -> None:
        """The listener was cut off from Redis: pushes are being missed."""
        self._cut_off = True
        self._subscribed.clear()
        with self._lock:
            self._state = None

    def take(self, event: str, message: Any) -> None:
        """A push heard on the channel, before this process relays it to its screens."""
        if not isinstance(message, dict) or not isinstance(message.get("seq"), int):
            return  # unnumbered (a resync or revocation meant for screens only)
        with self._lock:
            if self._buffer is not None:
                self._buffer.append((event, message))
            elif self._state is not None:
                self._apply(self._state, event, message)

    def _apply(self, state: _State, event: str, message: dict[str, Any]) -> None:
        epoch, seq = message.get("epoch"), message["seq"]
        if epoch == state.epoch and seq <= state.seq:
            return  # already in what was read
        if epoch != state.epoch or seq != state.seq + 1:
            log.warning("Snapshot: push %s/%s after %s/%s; reading again", epoch, seq,
                        state.epoch, state.seq)  # fmt: skip
            self._state = None
            return
        state.seq = seq
        if event == Push.CASES.value:
            for case in message.get("cases") or ():
                if case.get("st") in state.open_states:
                    state.cases[case["id"]] = [case.get(column) for column in COLUMNS]
                else:
                    state.cases.pop(case.get("id"), None)
        elif event == Push.KPIS.value:
            kpis = dict(message.get("kpis") or {})
            # The hourly trend comes only with the slower figures: keep it in between.
            kpis.setdefault("trend", (state.fields.get("kpis") or {}).get("trend", []))
            state.fields["kpis"] = kpis
            if message.get("units") is not None:
                state.fields["units"] = message["units"]
        elif event == Push.EMERGENCY.value:
            state.fields["emergency"] = message.get("emergency")
        if state.body is not None:
            state.tail.append([event, message])

    # -- the requests' side ----------------------------------------------------------

    def body(self, now_ms: int, gzip: bool) -> bytes | None:
        """The snapshot's JSON (gzipped if asked) as of now; None when no warm one can
        be kept (Redis unreachable: the caller reads the database itself)."""
        state = self._current()
        if state is None:
            return None
        with self._lock:
            if state.body is None or self._stale(state):
                self._serialize(state)
            assert state.body is not None
            made, tail = state.body, list(state.tail)
        end = b',"pushes":' + orjson.dumps(tail) + b',"now":' + str(now_ms).encode() + b"}"
        if not gzip:
            return made.plain + end
        compressor = made.compressor.copy()
        return made.gzip_head + compressor.compress(end) + compressor.flush()

    def stats(self) -> dict[str, Any]:
        """For /healthz: whether it is warm, at which push, how often it was read."""
        state = self._state
        return {
            "warm": state is not None,
            "seq": state.seq if state is not None else None,
            "open_cases": len(state.cases) if state is not None else None,
            "reads": self.reads,
            "read_s": self.read_s,
        }

    def prepare(self) -> None:
        """Read the snapshot now (a web process's start), so no screen waits for it."""
        try:
            self._current()
        except Exception:  # the database is not there yet: the first request reads it
            log.exception("Snapshot: could not read it at start")

    def _stale(self, state: _State) -> bool:
        assert state.body is not None
        if not state.tail:
            return False
        age = time.monotonic() - state.body.made
        return len(state.tail) > self.max_tail or age > self.rebuild_s

    def _serialize(self, state: _State) -> None:
        rows = list(state.cases.values())
        head = orjson.dumps(
            {
                **state.fields,
                "cases": {"cols": list(COLUMNS), "rows": rows},
                "epoch": state.epoch,
                "seq": state.seq,
            }  # fmt: skip
        )[:-1]  # the object stays open for the tail
        # Level 1: at 100,000 open cases 16 MB of JSON in 0.2 s to 3.0 MB; level 6
        # saves a tenth of the bytes for ten times the time.
        compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
        gzip_head = compressor.compress(head)
        state.body = _Body(state.seq, time.monotonic(), head, gzip_head, compressor)
        state.tail = []

    def _current(self) -> _State | None:
        with self._lock:
            if self._state is not None:
                return self._state
        with self._build:
            with self._lock:
                if self._state is not None:  # read by the request before this one
                    return self._state
            self._listen()
            # At start the listener is on its way; once it was lost (Redis away) a
            # request does not wait for it but reads the database itself.
            wait = 0.0 if self._cut_off else self.subscribe_timeout_s
            if not self._subscribed.wait(wait):
                return None
            return self._read()

    def _read(self) -> _State | None:
        with self._lock:
            self._buffer = []
        started = time.perf_counter()
        try:
            snapshot = self._cold()
        except BaseException:
            with self._lock:
                self._buffer = None
            raise
        self.reads, self.read_s = self.reads + 1, round(time.perf_counter() - started, 3)
        log.info("Snapshot: read from the database in %.2f s", self.read_s)
        epoch, seq = snapshot.pop("epoch", None), snapshot.pop("seq", None)
        cases = snapshot.pop("cases")
        snapshot.pop("now", None)
        with self._lock:
            buffered, self._buffer = self._buffer or [], None
            if epoch is None or seq is None or not self._subscribed.is_set():
                return None  # no count to keep it by (Redis went away meanwhile)
            state = _State(epoch, seq, self._open, {row[0]: row for row in cases["rows"]}, snapshot)
            self._state = state
            for event, message in buffered:
                if self._state is not None:
                    self._apply(self._state, event, message)
            return self._state
