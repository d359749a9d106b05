"""The largest request body a web process reads (`max_request_bytes`, 1 MiB).

Nothing we serve takes more: a Dash callback sends a few props, a case action a
note of 500 characters. Without a limit a 96 MiB JSON POST to a Dash callback, with
only a wall's cookie, was parsed whole (issue 20). A declared `Content-Length`
beyond the limit is refused before any other check looks at the request; a chunked
body is cut by Flask's `MAX_CONTENT_LENGTH` as it is read. The refusal is JSON where
a program reads the answer (the API, Open311, metrics and Dash's callbacks).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from dashboard.web.context import App
from dashboard.web.guard import page

JSON_PREFIXES = ("/api/", "/open311/", "/metrics")


def wants_json(path: str) -> bool:
    """Whether the refusal of this path is read by a program (JSON), not a person."""
    return path.startswith(JSON_PREFIXES) or "/_dash-" in path


def too_large(app: App) -> Any:
    """413 with the limit in words: JSON for programs, a page for people."""
    limit = app.settings.max_request_bytes
    message = f"request body too large: at most {limit} bytes"
    if wants_json(request.path):
        return jsonify({"error": message, "max_bytes": limit}), 413
    return page("Too large", message, 413)


def check(app: App) -> Any:
    """Before every request: refuse a declared body over the limit, unread."""
    size = request.content_length
    if size is not None and size > app.settings.max_request_bytes:
        return too_large(app)
    return None


def register(app: App) -> None:
    """Set the limit (first of the before-request checks) and its 413 answer."""
    app.server.config["MAX_CONTENT_LENGTH"] = app.settings.max_request_bytes
    app.server.before_request(lambda: check(app))
    app.server.register_error_handler(413, lambda _error: too_large(app))
