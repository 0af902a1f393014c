"""Small key/value state shared by processes (e.g. the last backup), stored as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, utcnow


class AppState(Base):
    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


async def get_state(*, session: AsyncSession, key: str) -> dict[str, Any] | None:
    """Return the value stored under key, or None."""
    row = await session.scalar(select(AppState).where(AppState.key == key))
    return row.value if row else None


async def set_state(*, session: AsyncSession, key: str, value: dict[str, Any]) -> None:
    """Insert or replace the value stored under key."""
    row = await session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value
        row.updated_at = utcnow()
    await session.flush()
