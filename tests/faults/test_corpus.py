"""A corpus of bad entries among good ones: each bad one set aside, each good one applied."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from dashboard.store.batch import Store
from streams.names import EVENT_FIELD
from streams.producer import _encode
from streams.status import read_status
from tests.faults.corpus import INDEPENDENT, dependent, undispatched
from tests.faults.processes import (
    Workers,
    applied_ids,
    database,
    fault_settings,
    letters,
    report,
    wait_until,
)
from tests.stories import story


def entry(payload: Any) -> dict[Any, Any]:
    """The fields of a stream entry holding the payload."""
    return payload if isinstance(payload, dict) else {EVENT_FIELD: payload}


def test_bad_entries_are_set_aside_with_reasons_and_good_ones_apply(
    tmp_path: Path, redis_url: str, rules
) -> None:
    """No bad entry stalls the worker; every reason says what is wrong."""
    settings = fault_settings(tmp_path, redis_url, batch_size=20)
    engine = database(settings)
    client = redis.Redis.from_url(redis_url)
    rng = random.Random(7)
    now = datetime.now(UTC)
    good: list[Any] = [story(f"G{i:03d}", now) for i in range(30)]
    bad = list(INDEPENDENT)
    order: list[tuple[dict[Any, Any], str | None]] = []
    for payload, words in bad:  # interleaved: a few good events, a bad one
        for _ in range(rng.randint(0, 3)):
            case = rng.choice([g for g in good if g]) if any(good) else None
            if case is not None:
                order.append((entry(_encode(case.pop(0))), None))
        order.append((entry(payload), words))
    for index, case in enumerate(good):
        case_id = f"G{index:03d}"
        if len(case) == 1:  # filed, not yet dispatched: bad dispatches go first
            order += [(entry(p), w) for p, w in undispatched(case_id)]
        order += [(entry(_encode(e)), None) for e in case]
        order += [(entry(p), w) for p, w in dependent(case_id)[: 1 + index % 3]]
    expected = {}
    pipe = client.pipeline(transaction=False)
    for fields, _ in order:
        pipe.xadd(settings.stream_key, fields)
    for entry_id, (_, words) in zip(pipe.execute(), order, strict=True):
        if words is not None:
            expected[entry_id.decode()] = words
    workers = Workers(settings)
    started = time.monotonic()
    workers.start("corpus")
    try:
        wait_until(lambda: len(letters(client, settings.stream_key)) >= len(expected), 60,
                   "every bad entry set aside")  # fmt: skip
        wait_until(lambda: len(applied_ids(engine)) >= 90, 30, "every good event applied")
        seconds = time.monotonic() - started
        alive = workers.alive()
        status = read_status(client, settings.stream_key, settings.consumer_group)
    finally:
        workers.stop()
    dead = {letter["stream_id"]: letter for letter in letters(client, settings.stream_key)}
    wrong = {
        i: (words, dead.get(i, {}).get("reason"))
        for i, words in expected.items()
        if words not in dead.get(i, {}).get("reason", "")
    }
    store = Store(engine, rules)
    states = {store.case(f"G{i:03d}").state for i in range(30)}  # type: ignore[union-attr]
    report(
        "corpus",
        bad=len(expected),
        good=90,
        applied=len(applied_ids(engine)),
        dead_lettered=len(dead),
        wrong_reasons=len(wrong),
        stalls=0 if alive and status and not status["failing_since"] else 1,
        seconds=round(seconds, 1),
    )
    assert len(expected) >= 50
    assert wrong == {}
    assert set(dead) == set(expected)
    assert len(applied_ids(engine)) == 90 and states == {"dispatched"}
    assert alive and status is not None and status["failing_since"] is None
    assert not any("internal error" in letter["reason"] for letter in dead.values())
    assert client.xpending(settings.stream_key, settings.consumer_group)["pending"] == 0
