"""Server-side sign-in sessions: the cookie carries a signed random id, the row says who it is and until when.

Signing (itsdangerous, keyed by HYPERPAGE_SESSION_SECRET) rejects forged or tampered cookies before any database
look-up; the row makes logout final: a copy of the cookie taken before logout is worth nothing after it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.auth.identity import Identity, Via, admission_problem, person
from hyperpage.auth.models import AuthSession
from hyperpage.auth.tokens import hash_secret
from hyperpage.config import Settings
from hyperpage.db.base import utcnow

SESSION_COOKIE = "hp_session"


def signer(settings: Settings, purpose: str) -> TimestampSigner:
    assert settings.hyperpage_session_secret is not None
    return TimestampSigner(settings.hyperpage_session_secret.get_secret_value(), salt=f"hyperpage.{purpose}")


def unsign(settings: Settings, purpose: str, value: str, max_age: int) -> str | None:
    """The signed value if the signature is ours and younger than max_age seconds, else None."""
    try:
        return signer(settings, purpose).unsign(value, max_age=max_age).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


async def start_session(
    session: AsyncSession,
    settings: Settings,
    *,
    subject: str,
    email: str | None,
    name: str | None,
    groups: tuple[str, ...],
) -> str:
    """Store a new session and return the cookie value; expired rows are swept on the way."""
    now = utcnow()
    await session.execute(delete(AuthSession).where(AuthSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            session_hash=hash_secret(session_id),
            subject=subject[:255],
            email=email,
            name=name,
            groups=list(groups),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.hyperpage_session_max_age_seconds),
        )
    )
    await session.commit()
    return signer(settings, "session").sign(session_id).decode()


async def identity_for_cookie(session: AsyncSession, settings: Settings, cookie: str) -> Identity | None:
    """The person a session cookie belongs to, with the role today's settings give them; None if not valid."""
    session_id = unsign(settings, "session", cookie, settings.hyperpage_session_max_age_seconds)
    if session_id is None:
        return None
    row = await session.scalar(select(AuthSession).where(AuthSession.session_hash == hash_secret(session_id)))
    if row is None or row.expires_at <= utcnow():
        return None
    groups = tuple(row.groups or ())
    # the allow-lists are read again on every request: removing a domain or group locks its sessions out at once
    if admission_problem(settings, row.email, groups) is not None:
        return None
    return person(settings, subject=row.subject, name=row.name, email=row.email, groups=groups, via=Via.SESSION)


async def end_session(session: AsyncSession, settings: Settings, cookie: str) -> None:
    session_id = unsign(settings, "session", cookie, settings.hyperpage_session_max_age_seconds)
    if session_id is None:
        return
    await session.execute(delete(AuthSession).where(AuthSession.session_hash == hash_secret(session_id)))
    await session.commit()
