"""/open311/v2/ in XML always parses, whatever text a case holds (issue 20).

The rows are changed in the database directly, past the contract, to prove the
writer itself: a description with U+0001 made requests.xml not well-formed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import update

from dashboard.app import App, create_app
from dashboard.domain.access import Role
from dashboard.settings import Settings
from dashboard.store.models import Case
from dashboard.web.open311 import xml_text
from streams.consumer import Item
from streams.schema import validate
from tests import webclients
from tests.stories import story

UNREADABLE = "井盖\x01缺失\x0b 88\ufffe号\uffff"


@pytest.fixture
def app(settings: Settings, engine) -> Iterator[App]:
    """The app with one case whose description and address XML 1.0 cannot hold."""
    built = create_app(settings, engine=engine, redis_url=settings.redis_url)
    events = story("X1", datetime.now(UTC), "sanitation", description="placeholder")
    built.store.apply_batch([Item(f"{i}-0", validate(e)) for i, e in enumerate(events)])
    with built.store.sessions.begin() as db:
        db.execute(update(Case).values(description=UNREADABLE, address="\x1f路\x02口"))
    yield built


@pytest.mark.parametrize("path", ["/open311/v2/requests.xml", "/open311/v2/requests/X1.xml"])
def test_requests_xml_parses_with_the_unreadable_characters_dropped(app: App, path: str) -> None:
    """The answer is well-formed and the description keeps every character XML allows."""
    response = webclients.signed_in(app, "reader", Role.VIEWER).get(path)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.get_data())
    assert root.findtext("request/description") == "井盖缺失 88号"
    assert root.findtext("request/address") == "路口"


def test_xml_text_drops_lone_surrogates_and_keeps_tab_newline_and_del() -> None:
    """A lone surrogate (which the database cannot even hold) is dropped too."""
    assert xml_text("a\ud800b\tc\nd\r\x7fe\U0001f600") == "ab\tc\nd\r\x7fe\U0001f600"
