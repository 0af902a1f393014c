"""The ledger: a schema in the target that records what a migration created and how far it got.

Objects are recorded *before* they are created (and dropped with IF EXISTS), so a run killed at any point can
still be rolled back exactly; table and step states make `--resume` continue where the run stopped.
"""

from __future__ import annotations

import json
import math
from typing import Any

import psycopg

from hyperpage.migrate.plan import MigrationError, quote_ident

SCHEMA = "hyperpage_migration"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", SCHEMA)

_DDL = f"""
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.run (
    id int PRIMARY KEY CHECK (id = 1), mode text NOT NULL, source text NOT NULL, status text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz);
CREATE TABLE {SCHEMA}.objects (seq serial PRIMARY KEY, kind text NOT NULL, name text NOT NULL);
CREATE TABLE {SCHEMA}.tables (
    name text PRIMARY KEY, status text NOT NULL DEFAULT 'pending', rows bigint, rejected bigint,
    finished_at timestamptz);
CREATE TABLE {SCHEMA}.steps (
    seq int PRIMARY KEY, sql text NOT NULL, optional boolean NOT NULL, status text NOT NULL DEFAULT 'pending',
    error text);
CREATE TABLE {SCHEMA}.rejects (tbl text NOT NULL, rowkey text, reason text NOT NULL, data jsonb NOT NULL);
CREATE TABLE {SCHEMA}.warnings (seq serial PRIMARY KEY, message text NOT NULL);
"""


def catalog_snapshot(conn: psycopg.Connection, *, include_ledger: bool = True) -> list[tuple[Any, ...]]:
    """Every user-visible object: schemas, relations (tables, indexes, sequences, views), types, functions."""
    excluded = list(SYSTEM_SCHEMAS if not include_ledger else SYSTEM_SCHEMAS[:-1])
    rows = conn.execute(
        """
        SELECT 'schema', nspname, '' FROM pg_namespace WHERE nspname <> ALL(%(x)s) AND nspname NOT LIKE 'pg_%%'
        UNION ALL
        SELECT 'rel', n.nspname || '.' || c.relname, c.relkind::text FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname <> ALL(%(x)s) AND n.nspname NOT LIKE 'pg_%%'
        UNION ALL
        SELECT 'type', n.nspname || '.' || t.typname, t.typtype::text FROM pg_type t
          JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname <> ALL(%(x)s)
          AND n.nspname NOT LIKE 'pg_%%' AND t.typrelid = 0 AND t.typelem = 0
        UNION ALL
        SELECT 'func', n.nspname || '.' || p.proname, '' FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname <> ALL(%(x)s) AND n.nspname NOT LIKE 'pg_%%'
        ORDER BY 1, 2""",
        {"x": excluded},
    ).fetchall()
    return [tuple(r) for r in rows]


def exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone() is not None


def assert_empty(conn: psycopg.Connection) -> None:
    objects = [r for r in catalog_snapshot(conn, include_ledger=False) if r[0] == "rel"]
    if objects:
        names = ", ".join(r[1] for r in objects[:5])
        raise MigrationError(
            f"target database is not empty ({len(objects)} relations, e.g. {names}): "
            "use an empty database, or --resume / --replace for a previous migration"
        )


def create(conn: psycopg.Connection, mode: str, source: str) -> None:
    conn.execute(_DDL)
    conn.execute(f"INSERT INTO {SCHEMA}.run (id, mode, source, status) VALUES (1, %s, %s, 'preparing')", (mode, source))


def run_info(conn: psycopg.Connection) -> tuple[str, str, str]:
    row = conn.execute(f"SELECT mode, source, status FROM {SCHEMA}.run").fetchone()
    if row is None:
        raise MigrationError("the migration ledger is incomplete: run --rollback, then migrate again")
    return row[0], row[1], row[2]


def set_status(conn: psycopg.Connection, status: str) -> None:
    finished = ", finished_at = now()" if status == "done" else ""
    conn.execute(f"UPDATE {SCHEMA}.run SET status = %s{finished}", (status,))


def record_objects(conn: psycopg.Connection, objects: list[tuple[str, str]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {SCHEMA}.objects (kind, name) VALUES (%s, %s)", objects)


def record_plan(
    conn: psycopg.Connection, tables: list[str], steps: list[tuple[str, bool]], warnings: list[str]
) -> None:
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {SCHEMA}.tables (name) VALUES (%s)", [(t,) for t in tables])
        cur.executemany(
            f"INSERT INTO {SCHEMA}.steps (seq, sql, optional) VALUES (%s, %s, %s)",
            [(i, sql, opt) for i, (sql, opt) in enumerate(steps)],
        )
        cur.executemany(f"INSERT INTO {SCHEMA}.warnings (message) VALUES (%s)", [(w,) for w in warnings])


def table_states(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute(f"SELECT name, status FROM {SCHEMA}.tables").fetchall())


def pending_steps(conn: psycopg.Connection) -> list[tuple[int, str, bool]]:
    return [
        tuple(r)
        for r in conn.execute(
            f"SELECT seq, sql, optional FROM {SCHEMA}.steps WHERE status = 'pending' ORDER BY seq"
        ).fetchall()
    ]


def mark_step(conn: psycopg.Connection, seq: int, status: str, error: str | None = None) -> None:
    conn.execute(f"UPDATE {SCHEMA}.steps SET status = %s, error = %s WHERE seq = %s", (status, error, seq))


def failed_optional_steps(conn: psycopg.Connection) -> list[str]:
    return [
        f"skipped: {sql} ({err})"
        for sql, err in conn.execute(
            f"SELECT sql, error FROM {SCHEMA}.steps WHERE status = 'skipped' ORDER BY seq"
        ).fetchall()
    ]


def warnings(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(f"SELECT message FROM {SCHEMA}.warnings ORDER BY seq").fetchall()]


def rejects(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return [
        {"table": t, "rowid": k, "reason": r, "values": d}
        for t, k, r, d in conn.execute(
            f"SELECT tbl, rowkey, reason, data FROM {SCHEMA}.rejects ORDER BY tbl, rowkey"
        ).fetchall()
    ]


def rejected_counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute(f"SELECT name, coalesce(rejected, 0) FROM {SCHEMA}.tables").fetchall())


_FOREIGN_DEPENDENTS = f"""
WITH ours AS (
    SELECT 'pg_class'::regclass AS cls, to_regclass(quote_ident(name)) AS oid FROM {SCHEMA}.objects
    WHERE kind = 'table'
    UNION ALL
    SELECT 'pg_proc'::regclass, to_regproc('public.' || quote_ident(name))::oid FROM {SCHEMA}.objects
    WHERE kind = 'function'),
dependents AS (
    SELECT d.classid, d.objid, d.objsubid,
           CASE d.classid
               WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
               WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objid)
               WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
               WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
               WHEN 'pg_class'::regclass THEN d.objid
           END AS owner
    FROM pg_depend d JOIN ours o ON d.refclassid = o.cls AND d.refobjid = o.oid
    WHERE d.deptype = 'n')
SELECT DISTINCT pg_describe_object(classid, objid, objsubid) FROM dependents
WHERE owner IS NULL OR owner NOT IN (SELECT oid FROM ours WHERE cls = 'pg_class'::regclass AND oid IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = owner AND n.nspname = '{SCHEMA}')
ORDER BY 1"""


def foreign_dependents(conn: psycopg.Connection) -> list[str]:
    """Objects this migration did not create that depend on what it created (a user's views, foreign keys)."""
    return [r[0] for r in conn.execute(_FOREIGN_DEPENDENTS).fetchall()]


def drop_objects(conn: psycopg.Connection) -> list[str]:
    """Drop what the ledger recorded, newest first, then the ledger itself.

    CASCADE only removes what depends on our own objects (indexes, keys between migrated tables, the change
    trigger); anything else depending on them was made by someone else since, so the rollback refuses instead.
    """
    others = foreign_dependents(conn)
    if others:
        raise MigrationError(
            f"rollback refused: {len(others)} objects made after the migration depend on its tables "
            f"and would be dropped with them: {', '.join(others[:10])}; drop or move them first"
        )
    dropped = []
    for kind, name in conn.execute(f"SELECT kind, name FROM {SCHEMA}.objects ORDER BY seq DESC").fetchall():
        conn.execute(f"DROP {kind.upper()} IF EXISTS {quote_ident(name)} CASCADE")
        dropped.append(f"{kind} {name}")
    conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    return dropped


def dumps_row(values: list[Any]) -> str:
    """A rejected row as JSON: text as is, bytes as hex, everything else via repr (nothing is lost)."""

    def one(v: Any) -> Any:
        if v is None or isinstance(v, bool | int) or (isinstance(v, float) and math.isfinite(v)):
            return v
        if isinstance(v, bytes):
            return {"hex": v.hex()}
        return v if isinstance(v, str) and "\x00" not in v else {"repr": repr(v)}

    return json.dumps([one(v) for v in values], default=repr)
