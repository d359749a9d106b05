"""The emergency lane: time from publishing emergency.raised to its push on a screen.

    .venv/bin/python bench/emergency_lane.py [--backlog 30000] [--rounds 3] [--no-stream]

Starts a hall (embedded Redis, ingest and web as child processes, as the demo does),
connects one wall screen with python-socketio's client (the wall's token, websocket
transport, as browsers use) and measures, each round, the time from publish to the `emergency` push:

- baseline: on the lane with nothing queued;
- lane: published on the lane right after `--backlog` case events on the stream;
- stream: the same behind the same backlog, published on the stream itself (how
  every emergency travelled before the lane; skip with --no-stream).

It also says how long the worker took to drain each backlog, so "before the backlog
is drained" can be read off. Publisher, worker and screen share the machine's clock.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import events  # noqa: E402

from streams.consumer import lag  # noqa: E402
from streams.producer import new_event  # noqa: E402
from tests.hall import Hall, temporary_hall  # noqa: E402

LEVELS = ("orange", "red")


class Screen:
    """One wall screen on Socket.IO that notes when each emergency level arrives."""

    def __init__(self, hall: Hall) -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(hall.wall_url, timeout=60).read()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        self.arrived: dict[str | None, float] = {}
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("emergency", self._emergency)
        self.client.connect(
            hall.base_url, headers={"Cookie": self.cookie}, transports=["websocket"]
        )

    def _emergency(self, data: Any) -> None:
        level = (data.get("emergency") or {}).get("level") if isinstance(data, dict) else None
        with self.changed:
            self.arrived[level] = time.time()
            self.changed.notify_all()

    def wait(self, level: str | None, timeout: float = 120) -> float:
        """When the push with this level (None: cleared) arrived."""
        with self.changed:
            if not self.changed.wait_for(lambda: level in self.arrived, timeout):
                raise TimeoutError(f"no emergency push with level {level}")
            return self.arrived.pop(level)


def drained(hall: Hall, timeout: float = 600) -> float:
    """Wait until the worker has nothing left; when that was."""
    client = hall.producer.redis
    stream, group = hall.settings.stream_key, hall.settings.consumer_group
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = lag(client, stream, group, cap=1_000_000)
        if left["undelivered"] == 0 and left["pending"] == 0:
            return time.time()
        time.sleep(0.05)
    raise TimeoutError("the backlog never drained")


def one_round(
    hall: Hall, screen: Screen, backlog: list[dict[str, Any]], publish: Callable[..., Any]
) -> tuple[float, float | None]:
    """Raise behind the backlog, wait for the push, clear; (push s, drained s after)."""
    started = time.time()
    if backlog:
        hall.producer.publish_many(backlog)
    published = time.time()
    publish(new_event("emergency.raised", hazard="typhoon", level="red", force=True))
    pushed = screen.wait("red") - published
    drain = drained(hall) - started if backlog else None
    hall.producer.publish_lane(new_event("emergency.cleared", note="bench"))
    screen.wait(None)
    time.sleep(0.5)  # nothing of this round may be taken for the next one's
    with screen.changed:
        screen.arrived.clear()
    return pushed, drain


def fresh_backlog(size: int, tag: str) -> list[dict[str, Any]]:
    """`size` case events of cases of their own (a round never reuses a case)."""
    batch = events(size)
    for event in batch:
        event["case_id"] = f"{tag}-{event['case_id']}"
    return batch


def show(name: str, figures: list[tuple[float, float | None]]) -> None:
    """One line of figures."""
    pushes = [push * 1000 for push, _ in figures]
    drains = [d for _, d in figures if d is not None]
    line = f"{name:<34} push median {statistics.median(pushes):7.0f} ms  max {max(pushes):7.0f} ms"
    if drains:
        line += f"   backlog drained after {statistics.median(drains):5.1f} s"
    print(line, flush=True)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-stream", action="store_true")
    args = parser.parse_args()
    with temporary_hall("bench-lane-") as hall:
        screen = Screen(hall)
        lane, stream = hall.producer.publish_lane, hall.producer.publish
        rounds = range(args.rounds)
        show("baseline: lane, nothing queued", [one_round(hall, screen, [], lane) for _ in rounds])
        show(
            f"lane, behind {args.backlog:,} events",
            [one_round(hall, screen, fresh_backlog(args.backlog, f"L{n}"), lane) for n in rounds],
        )
        if not args.no_stream:
            show(
                f"stream, behind {args.backlog:,} events",
                [
                    one_round(hall, screen, fresh_backlog(args.backlog, f"S{n}"), stream)
                    for n in rounds
                ],
            )
        screen.client.disconnect()


if __name__ == "__main__":
    main()
