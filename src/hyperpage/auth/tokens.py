"""API tokens: created by an admin, shown once, stored as a SHA-256 hash, optionally expiring, revocable.

A token is `hp_` + 43 URL-safe characters from `secrets.token_urlsafe(32)` (256 random bits): too long to guess,
so a plain SHA-256 is enough to store it (a slow password hash protects low-entropy secrets, not these), and
the prefix lets secret scanners and our resolver recognise it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.auth.identity import Identity, Role, Via
from hyperpage.auth.models import ApiToken
from hyperpage.db.base import utcnow
from hyperpage.errors import BadRequest, NotFound

PREFIX = "hp_"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most once a minute per token
TokenStatus = Literal["active", "expired", "revoked"]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def status_of(token: ApiToken, now: datetime | None = None) -> TokenStatus:
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # the only time the secret exists outside the caller's hands


async def create_token(
    session: AsyncSession, *, name: str, role: Role, created_by: str, expires_at: datetime | None = None
) -> CreatedToken:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise BadRequest("name: 1-100 printable characters")
    if expires_at is not None and expires_at <= utcnow():
        raise BadRequest("expires_at: must be in the future")
    secret = new_secret()
    token = ApiToken(
        name=name,
        role=role.value,
        token_hash=hash_secret(secret),
        created_by=created_by[:255],
        expires_at=expires_at,
        created_at=utcnow(),
    )
    session.add(token)
    await session.commit()
    return CreatedToken(token, secret)


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list(await session.scalars(select(ApiToken).order_by(ApiToken.id)))


async def revoke_token(session: AsyncSession, *, token_id: int) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    if token.revoked_at is None:  # revoking twice keeps the first time
        token.revoked_at = utcnow()
        await session.commit()
    return token


class TokenRefused(Exception):
    """The presented token is unknown, revoked or expired; the message says which (it reveals nothing secret)."""


async def identity_for_token(session: AsyncSession, *, secret: str) -> Identity:
    """The identity an API token stands for, or TokenRefused."""
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None:
        raise TokenRefused("unknown API token")
    now = utcnow()
    state = status_of(token, now)
    if state != "active":
        raise TokenRefused(f"the API token is {state}")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        await session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        await session.commit()
    return Identity(subject=f"token:{token.id}", name=token.name, role=Role(token.role), via=Via.TOKEN)


def expiry_in(days: int | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) + timedelta(days=days)
