"""A running command hall for browser tests: real `serve` and `ingest` processes.

Started the way the demo starts them (same code), on a free port, with a stream key
and data folder of their own.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy.orm import sessionmaker

from dashboard.domain.access import Role
from dashboard.process import demo
from dashboard.runtime import EmbeddedRedis, free_port
from dashboard.settings import Settings
from dashboard.store.accounts import Accounts, AuthError
from dashboard.store.db import make_engine
from streams.producer import Producer

if TYPE_CHECKING:
    from playwright.sync_api import Page


class Hall:
    """The web server and ingest worker as child processes."""

    def __init__(self, folder: Path, redis_url: str, walls_file: str = "", **settings: Any) -> None:
        self.settings = Settings(
            data_dir=str(folder),
            walls_file=walls_file,
            redis_url=redis_url,
            stream_key=f"test:{uuid.uuid4().hex[:12]}:cases",
            port=free_port(),
            **settings,
        )
        self.base_url = f"http://127.0.0.1:{self.settings.port}"
        self.password, self.token = demo.prepare(self.settings, folder)
        engine = make_engine(self.settings.resolved_database_url)
        self.accounts = Accounts(sessionmaker(engine, expire_on_commit=False))
        self.producer = Producer(redis.Redis.from_url(redis_url), self.settings.stream_key)
        self.children: list = []
        self.start_all()

    def start_all(self) -> None:
        """Start ingest and web, and wait until the web answers."""
        self.children = [
            demo.spawn(self.settings, "ingest"),
            demo.spawn(self.settings, "serve"),
        ]
        if not demo.wait_healthy(self.settings, self.children):
            self.stop()
            raise RuntimeError("the hall did not come up")

    def add_user(self, username: str, role: Role) -> str:
        """A user of this hall (made on the first call); their password."""
        password = f"{username}-password"
        try:
            self.accounts.create_user(username, password, role)
        except AuthError:
            pass  # made by an earlier test of the same hall
        return password

    def sign_in(self, page: Page, username: str, path: str) -> Page:
        """Sign a user (made with add_user) in through the form and open `path`."""
        page.goto(f"{self.base_url}/login?next={path}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", f"{username}-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"**{path}", timeout=60_000)
        return page

    @property
    def wall_url(self) -> str:
        """The wall's URL with the display token."""
        return f"{self.base_url}/wall/?token={self.token}"

    def stop_web(self) -> None:
        """Stop the web server only; ingest goes on."""
        demo.stop_all(self.children[1:])

    def start_web(self) -> None:
        """Start the web server again on the same port."""
        self.children[1] = demo.spawn(self.settings, "serve")
        if not demo.wait_healthy(self.settings, self.children):
            raise RuntimeError("the web server did not come back")

    def stop(self) -> None:
        """Stop both processes."""
        demo.stop_all(self.children)


@contextmanager
def temporary_hall(prefix: str) -> Iterator[Hall]:
    """A hall with an embedded Redis in a fresh folder, for scripts; stopped after."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    redis_server = EmbeddedRedis(folder / "redis")
    hall = Hall(folder / "hall", redis_server.url)
    try:
        yield hall
    finally:
        hall.stop()
        redis_server.stop()
