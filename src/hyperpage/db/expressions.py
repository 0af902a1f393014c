"""SQL expressions that mean the same on SQLite and PostgreSQL but are spelled differently by each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def json_list_contains(dialect: str, column: SQLColumnExpression[Any], value: str) -> ColumnElement[bool]:
    """True when a JSON array column holds `value` as one whole element (never a substring of the text).

    PostgreSQL has JSONB containment (`@>`); SQLite has no such operator, so the array is walked with
    json_each. Both bind the value as a parameter, so statement caching stays correct.
    """
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains([value])
    elements = func.json_each(column).table_valued("value")
    return select(literal(1)).select_from(elements).where(elements.c.value == value).exists()


def search_terms(raw: str | None, *, max_terms: int = 8) -> list[str]:
    """Split free text into terms; every term must match somewhere (the original portal's rule)."""
    if not raw:
        return []
    return [term for term in raw.split() if term][:max_terms]
