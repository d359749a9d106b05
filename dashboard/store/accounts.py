"""Who may see what: signed-in users with a role, and display tokens for walls.

Kept in one place so the full account and role system can grow here. Passwords are
salted hashes (werkzeug); display tokens are random and stored only as SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.domain.access import Role
from dashboard.store.models import DisplayToken, User


class AuthError(ValueError):
    """A sign-in or token operation that cannot be done, with the reason."""


def token_hash(raw: str) -> str:
    """The stored form of a display token."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Accounts:
    """Users and display tokens in the database."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def create_user(self, username: str, password: str, role: Role) -> User:
        """A new user; the username must be free."""
        with self.sessions.begin() as session:
            if session.scalar(select(User).where(User.username == username)):
                raise AuthError(f"user {username!r} exists already")
            user = User(
                username=username,
                password_hash=generate_password_hash(password),
                role=role.value,
                created_at=datetime.now(UTC),
            )
            session.add(user)
        return user

    def set_password(self, username: str, password: str) -> None:
        """Give an existing user a new password."""
        with self.sessions.begin() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AuthError(f"no user {username!r}")
            user.password_hash = generate_password_hash(password)

    def sign_in(self, username: str, password: str) -> User | None:
        """The user if the password is right, else None."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
        if user is None or not check_password_hash(user.password_hash, password):
            return None
        return user

    def user(self, user_id: int) -> User | None:
        """A user by id."""
        with self.sessions() as session:
            return session.get(User, user_id)

    def create_token(self, name: str) -> str:
        """A new display token for the named screen; the raw token, shown only once."""
        raw = secrets.token_urlsafe(24)
        with self.sessions.begin() as session:
            session.add(
                DisplayToken(name=name, token_hash=token_hash(raw), created_at=datetime.now(UTC))
            )
        return raw

    def check_token(self, raw: str) -> DisplayToken | None:
        """The token's record if it exists and is not revoked."""
        with self.sessions() as session:
            found = session.scalar(
                select(DisplayToken).where(DisplayToken.token_hash == token_hash(raw))
            )
        return found if found is not None and found.revoked_at is None else None

    def token_active(self, token_id: int) -> bool:
        """Whether a token handed out before is still valid."""
        with self.sessions() as session:
            found = session.get(DisplayToken, token_id)
        return found is not None and found.revoked_at is None

    def active_tokens(self, token_ids: set[int]) -> set[int]:
        """Which of these tokens are still valid (one query for many screens)."""
        if not token_ids:
            return set()
        with self.sessions() as session:
            query = select(DisplayToken.id).where(
                DisplayToken.id.in_(token_ids), DisplayToken.revoked_at.is_(None)
            )
            return set(session.scalars(query))

    def tokens(self) -> list[DisplayToken]:
        """Every display token, newest first."""
        with self.sessions() as session:
            return list(session.scalars(select(DisplayToken).order_by(DisplayToken.id.desc())))

    def revoke(self, name: str) -> int:
        """Revoke the active tokens of a screen; how many were revoked."""
        with self.sessions.begin() as session:
            found = session.scalars(
                select(DisplayToken).where(
                    DisplayToken.name == name, DisplayToken.revoked_at.is_(None)
                )
            ).all()
            for token in found:
                token.revoked_at = datetime.now(UTC)
        return len(found)
