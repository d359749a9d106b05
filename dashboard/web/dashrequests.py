"""Dash's own routes answer bad requests with 4xx, never a 500 and a traceback.

Dash trusts the shape of a `_dash-update-component` body (a missing `output` is a
KeyError deep in the dispatcher) and raises on a component-suite path it does not
serve. Both are a client's mistake or an attacker's probe: checked here first, they
get a 400 or a 404 and the log stays quiet (issue 20).
"""

from __future__ import annotations

from typing import Any

from dash.exceptions import DependencyException
from flask import jsonify, request

from dashboard.web.context import App

CALLBACK = "/_dash-update-component"


def register(app: App) -> None:
    """Check callback bodies before a view reads them; unknown bundles: 404."""
    app.server.before_request(_callback_shape)
    app.server.register_error_handler(DependencyException, _no_bundle)


def _callback_shape() -> Any:
    if request.method != "POST" or not request.path.endswith(CALLBACK):
        return None
    problem = callback_problem(request.get_json(silent=True))
    if problem is None:
        return None
    return jsonify({"error": f"not a Dash callback request: {problem}"}), 400


def _no_bundle(_: DependencyException) -> Any:
    return jsonify({"error": "no such bundle"}), 404


def callback_problem(body: Any) -> str | None:
    """What makes a body other than a callback request Dash can dispatch, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("output"), str):
        return "output must be a string"
    outputs = body.get("outputs")
    outputs = outputs if isinstance(outputs, list) else [outputs]
    if not all(_is_prop(item) for item in _flat(outputs)):
        return "outputs must be {id, property} objects"
    for name in ("inputs", "state"):
        items = body.get(name, [])
        if not isinstance(items, list) or not all(_is_prop(item) for item in _flat(items)):
            return f"{name} must be a list of {{id, property, value}} objects"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(item, str) for item in changed):
        return "changedPropIds must be a list of strings"
    return None


def _flat(items: list[Any]) -> list[Any]:
    # A pattern input (ALL) is a list of specs in the place of one.
    return [one for item in items for one in (item if isinstance(item, list) else [item])]


def _is_prop(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )
