"""People who sign in, and the display tokens walls open with.

Passwords are hashed with scrypt (werkzeug) and must be at least `min_length`
characters; display tokens are random and stored only as SHA-256. A user is never
deleted, only disabled, so the audit trail keeps naming someone who exists.
Disabling a user, changing their role or password ends their sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.domain.access import ACCOUNT_ROLES, Role
from dashboard.store.models import DisplayToken, LoginSession, User

HASH_METHOD = "scrypt"  # memory-hard; werkzeug's default, named so it stays so
# Checked when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method=HASH_METHOD)


class AuthError(ValueError):
    """A sign-in or account operation that cannot be done, with the reason."""


def token_hash(raw: str) -> str:
    """The stored form of a display token, API key or session key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def generated_password() -> str:
    """A random password for `users create` without --password (16 characters)."""
    return secrets.token_urlsafe(12)


class Accounts:
    """Users and display tokens in the database."""

    def __init__(self, sessions: sessionmaker, min_length: int = 10) -> None:
        self.sessions = sessions
        self.min_length = min_length

    def _hash(self, password: str) -> str:
        if len(password) < self.min_length:
            raise AuthError(f"a password needs at least {self.min_length} characters")
        return generate_password_hash(password, method=HASH_METHOD)

    def create_user(
        self, username: str, password: str, role: Role, must_change: bool = False
    ) -> User:
        """A new user; the username must be free and the password long enough."""
        if Role(role) not in ACCOUNT_ROLES:
            raise AuthError(f"an account's role is one of {', '.join(ACCOUNT_ROLES)}")
        hashed = self._hash(password)
        with self.sessions.begin() as session:
            if session.scalar(select(User).where(User.username == username)):
                raise AuthError(f"user {username!r} exists already")
            user = User(
                username=username,
                password_hash=hashed,
                role=Role(role).value,
                created_at=datetime.now(UTC),
                must_change_password=must_change,
            )
            session.add(user)
        return user

    def _change(self, session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise AuthError(f"no user {username!r}")
        # Any change to who someone is or may do ends their open sessions.
        session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        return user

    def set_password(self, username: str, password: str, must_change: bool = False) -> None:
        """Give an existing user a new password; their sessions end."""
        hashed = self._hash(password)
        with self.sessions.begin() as session:
            user = self._change(session, username)
            user.password_hash, user.must_change_password = hashed, must_change

    def change_own_password(self, user_id: int, current: str, new: str) -> None:
        """A signed-in user's own change (the forced one at first sign-in included)."""
        hashed = self._hash(new)
        with self.sessions.begin() as session:
            user = session.get(User, user_id)
            if user is None or not check_password_hash(user.password_hash, current):
                raise AuthError("the current password is wrong")
            if current == new:
                raise AuthError("the new password must differ from the current one")
            user.password_hash, user.must_change_password = hashed, False

    def set_role(self, username: str, role: Role) -> None:
        """Give a user another role; their sessions end, so they sign in as it."""
        if Role(role) not in ACCOUNT_ROLES:
            raise AuthError(f"an account's role is one of {', '.join(ACCOUNT_ROLES)}")
        with self.sessions.begin() as session:
            self._change(session, username).role = Role(role).value

    def disable(self, username: str) -> None:
        """Stop a user signing in; their sessions end at once."""
        with self.sessions.begin() as session:
            user = self._change(session, username)
            user.disabled_at = user.disabled_at or datetime.now(UTC)

    def enable(self, username: str) -> None:
        """Let a disabled user sign in again."""
        with self.sessions.begin() as session:
            self._change(session, username).disabled_at = None

    def authenticate(self, username: str, password: str) -> tuple[User | None, str]:
        """The user and "ok" if they may sign in, else None and why ("failed", "disabled")."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
            return None, "failed"
        if not check_password_hash(user.password_hash, password):
            return None, "failed"
        if user.disabled_at is not None:
            return None, "disabled"
        return user, "ok"

    def sign_in(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled, else None."""
        return self.authenticate(username, password)[0]

    def user(self, user_id: int) -> User | None:
        """A user by id."""
        with self.sessions() as session:
            return session.get(User, user_id)

    def users(self) -> list[User]:
        """Every user, by name."""
        with self.sessions() as session:
            return list(session.scalars(select(User).order_by(User.username)))

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

    def tokens(self) -> list[DisplayToken]:
        """Every display token, newest first."""
        with self.sessions() as session:
            return list(session.scalars(select(DisplayToken).order_by(DisplayToken.id.desc())))

    def revoke(self, name: str) -> int:
        """Revoke the active tokens of a screen, and end their sessions; how many."""
        with self.sessions.begin() as session:
            found = session.scalars(
                select(DisplayToken).where(
                    DisplayToken.name == name, DisplayToken.revoked_at.is_(None)
                )
            ).all()
            for token in found:
                token.revoked_at = datetime.now(UTC)
            ids = [token.id for token in found]
            session.execute(delete(LoginSession).where(LoginSession.token_id.in_(ids)))
        return len(found)
