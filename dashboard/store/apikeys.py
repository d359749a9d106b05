"""API keys for integrations: random, stored only as SHA-256, revocable at once.

A key is sent as `Authorization: Bearer …` and is accepted on the JSON API and
Open311 only; its scope says what it may do (today only `read`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dashboard.store.accounts import AuthError, token_hash
from dashboard.store.models import ApiKey

SCOPES = ("read",)
PREFIX = "chk_"  # recognisable in a leaked config file or a secret scanner


class ApiKeys:
    """API keys in the database."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def create(self, name: str, scope: str = "read") -> str:
        """A new key; the raw key, shown only once."""
        if scope not in SCOPES:
            raise AuthError(f"scope must be one of {', '.join(SCOPES)}")
        raw = PREFIX + secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            session.add(
                ApiKey(
                    name=name, key_hash=token_hash(raw), scope=scope, created_at=datetime.now(UTC)
                )
            )
        return raw

    def check(self, raw: str) -> tuple[ApiKey | None, bool]:
        """The key if valid, and whether this is its first use today (to audit)."""
        today = datetime.now(UTC).date().isoformat()
        with self.sessions.begin() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.key_hash == token_hash(raw)))
            if key is None or key.revoked_at is not None:
                return None, False
            first = key.last_used_on != today
            key.last_used_on = today
        return key, first

    def keys(self) -> list[ApiKey]:
        """Every key, newest first."""
        with self.sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))

    def revoke(self, name: str) -> int:
        """Revoke the active keys of this name; how many."""
        with self.sessions.begin() as session:
            found = session.scalars(
                select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            ).all()
            for key in found:
                key.revoked_at = datetime.now(UTC)
        return len(found)
