"""Actions cannot go through Socket.IO: whatever a client sends is refused and audited."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import simple_websocket
from sqlalchemy import create_engine, select

from dashboard.domain.access import Role
from dashboard.store.models import AuditEntry
from streams.names import lane_key
from tests.hall import Hall
from tests.stories import story


@pytest.fixture
def hall(tmp_path: Path, redis_url: str) -> Iterator[Hall]:
    """A running hall with one open case."""
    running = Hall(tmp_path / "hall", redis_url)
    running.producer.publish_many(story("SK1", datetime.now(UTC), "sanitation"))
    yield running
    running.stop()


def cookies(hall: Hall, *, token: str | None = None, user: str | None = None) -> str:
    """The session cookie of a wall (token) or a signed-in user."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if token:
        opener.open(f"{hall.base_url}/wall/?token={token}", timeout=30).read()
    else:
        form = urllib.parse.urlencode({"username": user, "password": f"{user}-password"})
        opener.addheaders = [("Origin", hall.base_url)]
        opener.open(f"{hall.base_url}/login", data=form.encode(), timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def send_action(hall: Hall, cookie: str) -> str:
    """Connect as a browser does, send an urge with an ack id; the server's answer."""
    port = hall.settings.port
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    screen = simple_websocket.Client.connect(url, headers={"Cookie": cookie})
    try:
        assert str(screen.receive(timeout=30)).startswith("0")
        screen.send("40")
        # Pings, and pushes broadcast while the connection was being accepted, may
        # come before the acknowledgement.
        while not (message := str(screen.receive(timeout=30))).startswith(("40", "44", "None")):
            if message == "2":
                screen.send("3")
        assert message.startswith("40"), message
        screen.send('421["urge",{"case_id":"SK1","note":"over the socket"}]')
        while (message := str(screen.receive(timeout=30))).startswith(("2", "42")):
            if message == "2":
                screen.send("3")
        return message
    finally:
        screen.close()


@pytest.mark.parametrize("who", ["display", "leader"])
def test_an_action_over_the_socket_is_refused_and_audited(hall: Hall, who: str) -> None:
    """A wall and a leader alike get a refusal; nothing reaches the stream."""
    if who == "display":
        cookie = cookies(hall, token=hall.token)
    else:
        hall.add_user("sock-leader", Role.LEADER)
        cookie = cookies(hall, user="sock-leader")
    before = hall.producer.redis.xlen(lane_key(hall.settings.stream_key))
    answer = send_action(hall, cookie)
    assert answer.startswith("431") and "screens only listen" in json.loads(answer[3:])[0]["error"]
    assert hall.producer.redis.xlen(lane_key(hall.settings.stream_key)) == before
    engine = create_engine(hall.settings.resolved_database_url)
    with engine.connect() as connection:
        actors = connection.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "socket.refused")
        ).all()
    assert actors and (who == "display" or "user:sock-leader" in actors)
