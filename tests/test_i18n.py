"""Every label in both languages, and names instead of codes on every view."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from dashboard.app import App, create_app
from dashboard.settings import Settings
from dashboard.store.accounts import Role
from dashboard.web.switch import HAZARDS
from layouts.i18n import LABELS
from streams.consumer import Item
from streams.names import SignalLevel
from streams.schema import validate
from tests.stories import story


def test_every_label_exists_in_both_languages() -> None:
    """Chinese and English have the same label keys, none of them empty."""
    assert set(LABELS["zh"]) == set(LABELS["en"])
    assert all(text.strip() for language in LABELS.values() for text in language.values())


def test_every_hazard_level_and_refusal_has_a_label() -> None:
    """The switch's options and its refusals are named in both languages."""
    keys = [f"hazard_{h}" for h in HAZARDS] + [f"level_{s.value}" for s in SignalLevel]
    refusals = re.findall(r'"(err_\w+)"', open("dashboard/web/switch.py").read())
    for language in LABELS.values():
        assert all(key in language for key in keys + refusals)


@pytest.fixture(params=["zh", "en"])
def signed_in(request, settings: Settings, engine) -> Iterator[tuple[FlaskClient, App]]:
    """A commander signed in to the app in each language."""
    app = create_app(settings.with_(language=request.param), engine=engine)
    app.accounts.create_user("duty", "s3cret-pass", Role.COMMANDER)
    client = app.server.test_client()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    client.post("/login", data={"username": "duty", "password": "s3cret-pass"})
    yield client, app


def layout_text(client: FlaskClient, view: str) -> str:
    """The text of a view's Dash layout as the browser receives it (JSON, unescaped)."""
    response = client.get(f"/{view}/_dash-layout")
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def tablet_text(client: FlaskClient, search: str = "") -> str:
    """The text of the tablet's shown part for an address, as its callback draws it."""
    inputs = [("tablet-url", "search", search), ("tablet-refresh", "data", None),
              ("tablet-tick", "n_intervals", None)]  # fmt: skip
    body = {
        "output": "tablet-live.children",
        "outputs": {"id": "tablet-live", "property": "children"},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [],
        "state": [],
    }
    response = client.post("/tablet/_dash-update-component", json=body)
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_the_desk_names_hazards_and_levels_in_its_language(signed_in) -> None:
    """Dropdown options are labelled in the view's language, valued by their codes."""
    client, app = signed_in
    text = LABELS[app.settings.language]
    body = layout_text(client, "desk")
    assert f'"label": "{text["hazard_typhoon"]}", "value": "typhoon"' in body
    assert f'"label": "{text["level_orange"]}", "value": "orange"' in body


def test_the_tablet_names_units_and_districts_in_its_language(signed_in) -> None:
    """The rankings show each unit's and district's name in the view's language."""
    client, app = signed_in
    t = datetime.now(UTC) - timedelta(minutes=10)
    events = story("T1", t, "sanitation", deadline=t + timedelta(minutes=1), district="440402")
    app.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    unit, district = app.catalogue.units["sanitation"], app.catalogue.districts["440402"]
    english = app.settings.language == "en"
    body = tablet_text(client)
    for shown, other in ((unit.name_en, unit.name), (district.name_en, district.name)):
        assert (shown in body, other in body) == ((True, False) if english else (False, True))
