"""Bad requests get a 4xx and a reason, never a 500 (issue 20's property test found these)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from tests.webclients import client_of, signed_in

CALLBACK = "/desk/_dash-update-component"


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The application on the test's stream and database."""
    yield create_app(settings, engine=engine, redis_url=settings.redis_url)


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"inputs": []}, {"output": "desk-detail.children", "outputs": "x"},
     {"output": "desk-detail.children", "outputs": {"id": "desk-detail", "property": "children"},
      "inputs": ["x"]},
     {"output": "desk-detail.children", "outputs": {"id": "desk-detail", "property": "children"},
      "inputs": [], "changedPropIds": [1]}],
)  # fmt: skip
def test_a_malformed_callback_body_is_a_400(app: App, body: object) -> None:
    """A body Dash's dispatcher cannot read is refused before it: 400 with a reason."""
    response = signed_in(app, "duty", Role.COMMANDER).post(CALLBACK, json=body)
    assert response.status_code == 400
    assert "not a Dash callback request" in response.get_json()["error"]


def test_a_callback_given_wrong_types_answers(app: App) -> None:
    """The case detail asked with a selection that is text, not rows, shows no case."""
    body = {"output": "desk-detail.children",
            "outputs": {"id": "desk-detail", "property": "children"},
            "inputs": [{"id": "desk-grid", "property": "selectedRows", "value": "C1"},
                       {"id": "desk-changed", "property": "data", "value": None}],
            "changedPropIds": ["desk-grid.selectedRows"]}  # fmt: skip
    response = signed_in(app, "duty", Role.COMMANDER).post(CALLBACK, json=body)
    assert response.status_code == 200


def test_the_tablet_reads_a_search_that_is_not_text(app: App) -> None:
    """The tablet's view asked with a number for its address search shows the city."""
    body = {"output": "tablet-actions.children",
            "outputs": {"id": "tablet-actions", "property": "children"},
            "inputs": [{"id": "tablet-url", "property": "search", "value": 7}],
            "changedPropIds": ["tablet-url.search"]}  # fmt: skip
    response = signed_in(app, "chief", Role.LEADER).post(
        "/tablet/_dash-update-component", json=body
    )
    assert response.status_code in (200, 204)


def test_an_unknown_bundle_is_a_404(app: App) -> None:
    """A component-suite path Dash does not serve is not found, not a server error."""
    response = client_of(app).get("/wall/_dash-component-suites/dash/nothing.js")
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/api/cases/C1/urge", "/api/emergency", "/api/desk/acks"])
def test_a_json_body_that_is_not_an_object_is_a_400(app: App, path: str) -> None:
    """A list or a string where an object belongs is refused with a reason."""
    client = signed_in(app, "duty", Role.COMMANDER)
    for body in ([1, 2], "urge", 7):
        response = client.post(path, json=body)
        assert response.status_code == 400, (path, body)
        assert response.get_json()["error"]
