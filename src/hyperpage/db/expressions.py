"""The database dialect behind a session, for the few statements spelled differently on each engine."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
