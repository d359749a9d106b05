"""Flask test clients as each kind of principal, for the access and security tests."""

from __future__ import annotations

from flask.testing import FlaskClient

from dashboard.app import App
from dashboard.domain.access import Role

ORIGIN = "http://localhost"  # the test client's own origin
PASSWORD = "s3cret-pass-1"


def client_of(app: App, origin: str | None = ORIGIN) -> FlaskClient:
    """A test client whose requests come from the app's own pages (its Origin)."""
    client = app.server.test_client()
    if origin:
        client.environ_base["HTTP_ORIGIN"] = origin
    return client


def signed_in(app: App, username: str, role: Role, password: str = PASSWORD) -> FlaskClient:
    """A client signed in as a new user of this role."""
    app.accounts.create_user(username, password, role)
    client = client_of(app)
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def wall_client(app: App, screen: str = "screen-1") -> tuple[FlaskClient, str]:
    """A client that opened the wall with a new display token; and the token."""
    token = app.accounts.create_token(screen)
    client = client_of(app)
    assert client.get(f"/wall/?token={token}").status_code == 200
    return client, token


def key_client(app: App, name: str = "feed") -> FlaskClient:
    """A client sending a new API key."""
    client = client_of(app, origin=None)
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + app.apikeys.create(name)
    return client
