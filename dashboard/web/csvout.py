"""The one CSV writer of every export: UTF-8 with a BOM, streamed, every text cell defused.

Excel takes a CSV without a byte-order mark for the local code page (GBK on a Chinese
Windows) and garbles UTF-8 Chinese, so the BOM comes first. Rows are written and sent
one by one: an export of every case never sits in memory.

A text cell a spreadsheet would run as a formula (CSV injection: `=HYPERLINK(…)`,
`+cmd|' /C calc'!A0`) gets a leading apostrophe, which keeps it text. Excel and
LibreOffice skip leading spaces and invisible characters before they look for the
formula sign, so we do too: a cell whose first character after any leading
whitespace, control or format character (zero-width spaces U+200B–U+200D, the word
joiner U+2060, a BOM U+FEFF, direction marks) is `=`, `+`, `-` or `@` (or the
full-width forms a Chinese input method types), or that has a tab or carriage
return among those leading characters, is defused (issue 20). Numbers written as
numbers stay numbers, so a negative count still sums.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response

BOM = "\ufeff"
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and ＝ ＋ － ＠
ALWAYS_FORMULA = frozenset("\t\r")
# Control (Cc) and format (Cf: zero-width, BOM, word joiner, bidi marks) characters:
# invisible, and skipped by spreadsheets before the formula sign.
INVISIBLE = frozenset({"Cc", "Cf"})

Row = Iterable[Any]


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    for char in text:
        if char in ALWAYS_FORMULA:
            return True
        if char.isspace() or unicodedata.category(char) in INVISIBLE:
            continue
        return char in FORMULA_SIGNS
    return False


def defuse(value: Any) -> Any:
    """The cell as written: text that could run as a formula gains a leading `'`."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def lines(rows: Iterable[Row]) -> Iterator[str]:
    """The CSV text, one line at a time, the BOM before the first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    prefix = BOM
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([defuse(cell) for cell in row])
        yield prefix + buffer.getvalue()
        prefix = ""
    if prefix:
        yield prefix  # no rows at all: still a BOM, so Excel reads what follows as UTF-8


def text(rows: Iterable[Row]) -> str:
    """The whole CSV as one string (for tests and small files)."""
    return "".join(lines(rows))


def response(rows: Iterable[Row], filename: str) -> Response:
    """A streamed CSV download of `rows`.

    The rows are read as the answer is sent, after the view returned: a generator that
    reads the database opens its own session and needs no request context.
    """
    return Response(
        lines(rows),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to a text type
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
