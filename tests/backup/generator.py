"""Fills every table of the schema with varied, reproducible rows, driven by the models' column types.

Generated from Base.metadata rather than written per table, so a new model or column is covered without
touching the backup tests. Check constraints of the form `col IN ('A', 'B')` supply the allowed values;
foreign keys point at rows generated for the parent table; unique columns get the row number.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, Integer, Numeric, String, Table, Text, create_engine, pool
from sqlalchemy.types import JSON

from hyperpage.config import sync_url
from hyperpage.db.base import TZDateTime
from hyperpage.db.models import Base

_IN = re.compile(r"^\s*(?:\w+ IS NULL OR )?\"?(\w+)\"?\s+IN\s*\((.*)\)\s*$", re.IGNORECASE)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def allowed_values(table: Table) -> dict[str, list[str]]:
    allowed: dict[str, list[str]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            match = _IN.match(str(constraint.sqltext))
            if match:
                allowed[match.group(1)] = re.findall(r"'([^']*)'", match.group(2))
    return allowed


def _value(column: Any, n: int, rnd: random.Random, allowed: dict[str, list[str]]) -> Any:
    kind = column.type
    if column.name in allowed:
        return rnd.choice(allowed[column.name])
    if column.nullable and rnd.random() < 0.15:
        return None
    if isinstance(kind, TZDateTime):
        return EPOCH + timedelta(seconds=rnd.randrange(0, 30_000_000), microseconds=rnd.randrange(1_000_000))
    if isinstance(kind, Boolean):
        return rnd.random() < 0.5
    if isinstance(kind, Float | Numeric):
        return round(rnd.uniform(0, 5000), 3)
    if isinstance(kind, Integer):
        return rnd.randrange(0, 100_000)
    if isinstance(kind, JSON):
        return {
            "n": n,
            "labels": [f"l{rnd.randrange(9)}" for _ in range(rnd.randrange(4))],
            "note": "ünïcode ✓" if n % 7 == 0 else None,
        }
    if isinstance(kind, String | Text):
        limit = getattr(kind, "length", None) or 200
        return f"{column.name}-{n}-{rnd.randrange(10**6)}"[:limit]
    raise TypeError(f"generator: no value rule for {column.table.name}.{column.name} ({kind!r})")


def fill(url: str, *, rows: int = 200, seed: int = 7) -> dict[str, int]:
    """Insert `rows` rows into every table (the parents first); return the count per table."""
    rnd = random.Random(seed)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                allowed = allowed_values(table)
                # A primary key limited to a fixed set (tool_configs.tool) allows one row per value.
                limited = [len(allowed[c.name]) for c in table.primary_key.columns if c.name in allowed]
                table_rows = min([rows, *limited])
                batch = []
                for n in range(1, table_rows + 1):
                    row: dict[str, Any] = {}
                    for column in table.columns:
                        if column.primary_key and isinstance(column.type, Integer):
                            row[column.name] = n
                        elif column.name in allowed:
                            values = allowed[column.name]
                            row[column.name] = values[n - 1] if column.primary_key else rnd.choice(values)
                        elif column.foreign_keys:
                            row[column.name] = rnd.randrange(1, rows + 1)
                        elif column.primary_key or any(
                            column.name in c.columns
                            for c in table.constraints
                            if c.__class__.__name__ == "UniqueConstraint"
                        ):
                            row[column.name] = f"{column.name}-{n}" if isinstance(column.type, String) else n
                        else:
                            row[column.name] = _value(column, n, rnd, allowed)
                    batch.append(row)
                conn.execute(table.insert(), batch)
                counts[table.name] = table_rows
            if engine.dialect.name == "postgresql":
                # Explicit ids leave the sequences behind; the app would collide on its next insert.
                for table in Base.metadata.sorted_tables:
                    if "id" in table.columns and isinstance(table.columns["id"].type, Integer):
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {rows})")
    finally:
        engine.dispose()
    return counts
