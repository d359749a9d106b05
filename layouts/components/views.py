"""What every view shares: its Dash app on the one Flask server, and its header."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash, html

from dashboard.web.context import App
from layouts import ASSETS
from layouts.i18n import label, labels, locale
from streams.names import Hazard, Push, SignalLevel

# Each view loads the shared assets (live push, banner) and its own, not the others'.
# No view loads the map's clustering engine as a page script: its worker does.
IGNORE = {
    "wall": r"(^|/)(desk\.css|desk-cases\.css|desk\.js|tablet\.(js|css)|bulletin\.(css|js)"
    r"|cluster-worker\.js)$",
    "desk": r"(^|/)((wall(-boards)?|map)\.(js|css)|tablet\.(js|css)|bulletin\.(css|js)"
    r"|supercluster\.min\.js|cluster-worker\.js)$",
    # bulletin.css/.js are for the bulletin's own page (layouts/bulletin.py), which links it.
    "tablet": r"(^|/)((wall(-boards)?|map)\.(js|css)|desk\.js|desk-cases\.css|bulletin\.(css|js)"
    r"|supercluster\.min\.js"
    r"|cluster-worker\.js)$",
}


def page_meta(app: App) -> dict[str, Any]:
    """What every view's scripts read before they start (assets/00-hall.js)."""
    push = {event.name.lower(): event.value for event in Push}
    language = app.settings.language
    text = labels(language)
    return {
        "language": language,
        "locale": locale(language),
        "timezone": app.timezone,
        "push": push,
        # A screen that sees another build in a snapshot reloads (an upgrade).
        "build": app.build,
        # The banner's names (assets/banner.js); a hazard not among them is shown as sent.
        "hazards": {h.value: label(text, "hazard", h.value) for h in Hazard},
        "levels": {s.value: label(text, "level", s.value) for s in SignalLevel},
    }


def view_app(app: App, name: str, title: str) -> Dash:
    """A Dash app for one view, mounted at /<name>/ on the server."""
    return Dash(
        name,
        server=app.server,  # type: ignore[arg-type]  # Dash's stubs omit Flask
        url_base_pathname=f"/{name}/",
        assets_folder=str(ASSETS),
        assets_ignore=IGNORE[name],
        serve_locally=True,
        update_title=None,  # type: ignore[arg-type]  # None turns the title flicker off
        title=title,
        meta_tags=[{"name": "commandhall-page", "content": json.dumps(page_meta(app))}],
    )


def view_header(app: App, title_key: str, username: str | None) -> html.Div:
    """Title, the emergency banner slot, who is signed in and the way out."""
    text = labels(app.settings.language)
    return html.Div(
        [
            html.H1(text[title_key]),
            html.Div(id="emergency-banner", className="emergency-slot"),
            html.Span(username or "", className="who"),
            html.A(text["sign_out"], href="/logout"),
        ],
        className="view-header",
    )


def data(**values: Any) -> Any:
    """data-* attributes for a component (`**data(kpi="closed")`)."""
    return {f"data-{key.replace('_', '-')}": value for key, value in values.items()}
