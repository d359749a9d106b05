"""Cells for CSV files opened in a spreadsheet: text stays text.

A cell starting with `=`, `+`, `-`, `@` (or a tab or carriage return) is run as a
formula by Excel and LibreOffice (CSV injection); a leading apostrophe keeps it
text. Numbers are left as they are, so a negative count still sums.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
