"""Server-side sessions: who a browser's cookie stands for, checked on every request.

The cookie carries only a random key; the row (keyed by its hash) names a user or
a display token. A user's session ends after `idle` without activity and after
`absolute` in any case; a wall's session never idles (walls are unattended) but
ends with its token. Logging out, disabling or revoking deletes the row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker

from dashboard.store.accounts import token_hash
from dashboard.store.models import DisplayToken, LoginSession, User

# last_seen_at is written at most this often: a desk polls several times a minute.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Holder:
    """Who a live session stands for, as read from the database just now."""

    key_hash: str
    name: str
    role: str
    user_id: int | None = None
    token_id: int | None = None
    must_change_password: bool = False


# A session with its token or user, in one query: every request reads it, so no ORM
# objects (two identity-map gets cost three times this one statement).
_SESSIONS = (
    select(
        LoginSession.key_hash,
        LoginSession.token_id,
        LoginSession.user_id,
        LoginSession.last_seen_at,
        LoginSession.created_at,
        DisplayToken.name.label("token_name"),
        DisplayToken.revoked_at,
        User.username,
        User.role,
        User.disabled_at,
        User.must_change_password,
    )  # fmt: skip
    .outerjoin(DisplayToken, DisplayToken.id == LoginSession.token_id)
    .outerjoin(User, User.id == LoginSession.user_id)
)


class Logins:
    """Server-side sessions in the database."""

    def __init__(self, sessions: sessionmaker, idle: timedelta, absolute: timedelta) -> None:
        self.sessions, self.idle, self.absolute = sessions, idle, absolute

    def open(
        self, address: str | None, user_id: int | None = None, token_id: int | None = None
    ) -> str:
        """A new session for a user or a display token; its raw key, for the cookie."""
        raw, now = secrets.token_urlsafe(32), datetime.now(UTC)
        with self.sessions.begin() as session:
            session.add(
                LoginSession(
                    key_hash=token_hash(raw),
                    user_id=user_id,
                    token_id=token_id,
                    created_at=now,
                    last_seen_at=now,
                    address=address,
                )
            )
        return raw

    def close(self, raw: str) -> None:
        """End a session (sign-out)."""
        with self.sessions.begin() as session:
            session.execute(delete(LoginSession).where(LoginSession.key_hash == token_hash(raw)))

    def holder(self, raw: str, active: bool = True) -> Holder | None:
        """Who the session stands for, or None if it ended; `active` counts as use."""
        now = datetime.now(UTC)
        with self.sessions() as session:
            row = session.execute(_SESSIONS.where(LoginSession.key_hash == token_hash(raw))).first()
        found = self._holder(row, now) if row is not None else None
        stale = row is not None and now - row.last_seen_at > TOUCH_EVERY
        if found is not None and active and stale:
            with self.sessions.begin() as session:
                session.execute(
                    update(LoginSession)
                    .where(LoginSession.key_hash == found.key_hash)
                    .values(last_seen_at=now)
                )
        return found

    def _holder(self, row: Any, now: datetime) -> Holder | None:
        if row.token_id is not None:
            if row.token_name is None or row.revoked_at is not None:
                return None
            return Holder(row.key_hash, row.token_name, "display", token_id=row.token_id)
        timed_out = now - row.last_seen_at > self.idle or now - row.created_at > self.absolute
        if row.username is None or row.disabled_at is not None or timed_out:
            return None
        return Holder(
            row.key_hash,
            row.username,
            row.role,
            user_id=row.user_id,
            must_change_password=bool(row.must_change_password),
        )

    def alive(self, key_hashes: set[str]) -> set[str]:
        """Which of these sessions (by key hash) still stand (one query for many)."""
        if not key_hashes:
            return set()
        now = datetime.now(UTC)
        with self.sessions() as session:
            rows = session.execute(_SESSIONS.where(LoginSession.key_hash.in_(key_hashes))).all()
        return {row.key_hash for row in rows if self._holder(row, now)}

    def end_others(self, user_id: int, keep_raw: str) -> None:
        """End a user's other sessions (after they change their own password)."""
        with self.sessions.begin() as session:
            session.execute(
                delete(LoginSession).where(
                    LoginSession.user_id == user_id,
                    LoginSession.key_hash != token_hash(keep_raw),
                )
            )
