"""GeoReport v2 as open data: anonymous reads when configured, and nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.app import create_app
from dashboard.settings import Settings
from streams.consumer import Item
from streams.schema import validate
from tests import webclients
from tests.stories import story


def test_open311_is_for_keys_unless_configured_public(settings: Settings, engine) -> None:
    """By default a stranger gets 401; with --open311-public, reads only."""
    closed = create_app(settings, engine=engine, redis_url=settings.redis_url)
    assert webclients.client_of(closed).get("/open311/v2/services.json").status_code == 401
    opened = create_app(settings.with_(open311_public=True), engine=engine,
                        redis_url=settings.redis_url)  # fmt: skip
    events = story("P1", datetime.now(UTC), "sanitation")
    opened.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    stranger = webclients.client_of(opened)
    assert stranger.get("/open311/v2/services.json").status_code == 200
    [request] = stranger.get("/open311/v2/requests.json").get_json()
    assert request["service_request_id"] == "P1"
    assert stranger.get("/open311/v2/requests/P1.xml").status_code == 200
    assert stranger.get("/api/cases/P1").status_code == 401  # the rest stays closed
    assert stranger.post("/open311/v2/requests.json", json={}).status_code in (401, 405)
