"""Dialect-neutral upsert: INSERT ... ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause, TableClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

# Rows per statement: SQLite allows 32,766 bound variables; ~25 columns x 500 rows stays well below.
BATCH = 500


async def upsert(
    session: AsyncSession,
    table: FromClause,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str] = ("connection_id", "external_id"),
    update: Sequence[str] | None = None,
) -> int:
    """Insert `rows`, or on a `key` conflict update `update` (default: every non-key column; empty: nothing).

    Returns how many rows were given (inserted or updated). `table` is typically a model's `__table__`."""
    if not isinstance(table, TableClause):  # a model's __table__ is declared as a FromClause but is a Table
        raise TypeError(f"upsert needs a table, not {type(table).__name__}")
    if not rows:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    columns = [c for c in rows[0] if c not in key and c != "id"] if update is None else list(update)
    for start in range(0, len(rows), BATCH):
        stmt = insert(table).values(list(rows[start : start + BATCH]))
        if columns:
            stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in columns})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        await session.execute(stmt)
    return len(rows)
