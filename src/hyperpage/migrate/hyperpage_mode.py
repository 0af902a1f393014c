"""Hyperpage-database mode: the schema comes from our Alembic migrations, the types from our models.

Forward (SQLite -> PostgreSQL) and back (PostgreSQL -> SQLite) use the same table and column list; only the
converters differ. On SQLite, TZDateTime is naive UTC text, Boolean is 0/1 and JSON is text; on PostgreSQL they
are timestamptz, boolean and jsonb.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from hyperpage.migrate.plan import Column, Endpoint, Plan, Reject, Table, copies_as_is, fk_order, quote_ident
from hyperpage.migrate.typing_rules import to_bool

ALEMBIC_TABLE = "alembic_version"
CORE_TABLES = {"connections", "repositories", "pull_requests", "pipelines", "issues"}  # since the first revision


def sqlite_ts_to_pg(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Reject(f"{value[:40]!r} is not a timestamp") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise Reject(f"{value!r} is not a timestamp")


def pg_ts_to_sqlite(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime writes, so the app reads it back unchanged.
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def pg_json_to_sqlite(value: Any) -> str:
    return json.dumps(value)


def sqlite_json_to_pg(value: Any) -> str:
    if not isinstance(value, str):
        raise Reject(f"{type(value).__name__} value in a JSON column")
    return value


def _kind(col_type: Any) -> str:
    from sqlalchemy import JSON, Boolean, Float, Integer, String, Text

    from hyperpage.db.base import TZDateTime

    if isinstance(col_type, TZDateTime):
        return "ts"
    if isinstance(col_type, Boolean):
        return "bool"
    if isinstance(col_type, JSON):
        return "json"
    if isinstance(col_type, Float):
        return "float"
    if isinstance(col_type, Integer):
        return "int"
    if isinstance(col_type, String | Text):
        return "text"
    raise TypeError(f"no migration rule for column type {col_type!r}: add one in hyperpage_mode.py")


FORWARD = {"ts": sqlite_ts_to_pg, "bool": to_bool, "json": sqlite_json_to_pg}
BACKWARD = {"ts": pg_ts_to_sqlite, "json": pg_json_to_sqlite}
PG_TYPES = {
    "ts": "timestamptz",
    "bool": "boolean",
    "json": "jsonb",
    "float": "double precision",
    "int": "bigint",
    "text": "text",
}


def build_hyperpage_plan(source: Endpoint) -> Plan:
    """One Table per model table, parents first; the identity column is the integer primary key, if any."""
    from hyperpage.db.models import Base  # SQLAlchemy: only for this mode (a generic run never loads it)

    forward = source.kind == "sqlite"
    tables = []
    for st in Base.metadata.sorted_tables:
        columns = []
        for c in st.columns:
            kind = _kind(c.type)
            conv = (FORWARD if forward else BACKWARD).get(kind)
            columns.append(
                Column(
                    source=c.name,
                    target=c.name,
                    pg_type=PG_TYPES[kind],
                    kind=kind,
                    select=quote_ident(c.name),
                    convert=conv,
                    not_null=not c.nullable,
                    decision=f"model type {type(c.type).__name__}",
                    # naive UTC text goes to COPY as is: the copy session's time zone is UTC
                    as_is=forward and copies_as_is(PG_TYPES[kind]),
                )
            )
        pk = list(st.primary_key.columns)
        identity = pk[0].name if len(pk) == 1 and _kind(pk[0].type) == "int" else None
        deps = {fk.column.table.name for fk in st.foreign_keys if fk.column.table.name != st.name}
        tables.append(
            Table(
                source=st.name,
                target=st.name,
                columns=columns,
                depends_on=deps,
                identity=identity,
                key="rowid" if forward else quote_ident(pk[0].name),
            )
        )
    return Plan(mode="hyperpage", source=source.display, tables=fk_order(tables))


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every Alembic revision this version ships (a file from another Alembic-managed app has others)."""
    from alembic.script import ScriptDirectory

    from hyperpage.db.schema import MIGRATIONS_DIR

    return frozenset(r.revision for r in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions())


def is_hyperpage_sqlite(conn: Any) -> str | None:
    """The Alembic revision of a SQLite file written by Hyperpage, or None for any other file.

    An alembic_version table alone proves nothing (every Alembic-managed app has one): the revision must be
    one of ours and our core tables must be there.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if ALEMBIC_TABLE not in tables:
        return None
    rev = conn.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}").fetchone()
    if rev is None or rev[0] not in known_revisions() or not tables >= CORE_TABLES:
        return None
    return str(rev[0])


def alembic_revision(conn: Any) -> str | None:
    """The revision in any file's alembic_version table (for the error message of --mode hyperpage)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (ALEMBIC_TABLE,)).fetchone():
        row = conn.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}").fetchone()
        return str(row[0]) if row else None
    return None


def count_rows(plan: Plan, conn: Any) -> None:
    for t in plan.tables:
        t.rows = conn.execute(f"SELECT count(*) FROM {quote_ident(t.source)}").fetchone()[0]
