"""What a callback receives, read defensively: the browser is not the only client.

`_dash-update-component` takes any JSON a client sends, so a note may arrive as a
number, the grid's selection as a string, a search as a list. Callbacks read their
inputs through these functions and get the type they expect or nothing.
"""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    """A text input's value; anything that is not text is no text."""
    return value if isinstance(value, str) else ""


def selected_case(rows: Any) -> str | None:
    """The case id of the grid's first selected row, or None."""
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return None
    case_id = rows[0].get("id")
    return case_id if isinstance(case_id, str) else None


def clicked(values: Any) -> bool:
    """Whether any of a pattern input's buttons has been clicked."""
    return isinstance(values, list) and any(isinstance(v, int) and v > 0 for v in values)


def triggered_field(triggered: Any, key: str) -> str | None:
    """One field of a pattern id that triggered a callback (`ctx.triggered_id`)."""
    if not hasattr(triggered, "get"):
        return None
    found = triggered.get(key)
    return found if isinstance(found, str) else None
