"""Request bodies read defensively: a JSON body must be an object, or it is refused.

`request.get_json(silent=True) or {}` lets `[1, 2]` or `"x"` through to `.get`, which
raises; every JSON endpoint reads its body here instead and answers 400 when the
body is not an object (issue 20).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request


def json_object() -> dict[str, Any] | None:
    """The request's JSON object; {} without a body; None when it is anything else."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def refused() -> Any:
    """The answer to a body that is not a JSON object."""
    return jsonify({"error": "the body must be a JSON object"}), 400


def text_or_none(value: Any) -> str | None:
    """A text field's value, or None when it is absent or not text."""
    return value if isinstance(value, str) else None
