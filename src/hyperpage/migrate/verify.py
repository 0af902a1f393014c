"""Verification: per table row counts and an order-independent checksum over canonicalised values, both sides.

Each row is canonicalised (booleans, timestamps in UTC, JSON with sorted keys, exact decimals; each engine's
storage form maps to the same value), hashed with BLAKE2b, and the hashes are summed modulo 2**128: the sum does
not depend on row order and counts duplicates. Then foreign-key integrity and sequences past their maximum ids.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from hyperpage.migrate.copy import converted, report_progress, source_rows
from hyperpage.migrate.introspect import open_source
from hyperpage.migrate.plan import Endpoint, Table, quote_ident

MOD = 2**128


def _bool(v: Any) -> bool:
    return bool(v)


def _ts(v: Any) -> str:
    if isinstance(v, str):
        if len(v) == 26 and v[10] == " " and v[19] == ".":  # SQLAlchemy's naive UTC text: no parsing needed
            return f"{v[:10]}T{v[11:]}+00:00"
        v = datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    elif v.utcoffset():
        v = v.astimezone(UTC)
    return v.isoformat(timespec="microseconds")


def _json(v: Any) -> str:
    if isinstance(v, str):
        v = json.loads(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _numeric(v: Any) -> str:
    return str(Decimal(v).normalize()) if not isinstance(v, float) else str(Decimal(repr(v)).normalize())


def _date(v: Any) -> str:
    return (date.fromisoformat(v) if isinstance(v, str) else v).isoformat()


def _bytes(v: Any) -> bytes:
    return bytes(v)


CANON = {"bool": _bool, "ts": _ts, "json": _json, "numeric": _numeric, "date": _date, "bytes": _bytes}


@dataclass
class TableCheck:
    table: str
    source_rows: int
    rejected: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows - self.rejected == self.target_rows
                and self.source_checksum == self.target_checksum)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _fold(table: Table, rows: Any) -> tuple[int, int]:
    fns = [(i, CANON[c.kind]) for i, c in enumerate(table.columns) if c.kind in CANON]
    total = n = 0
    for row in rows:
        if fns:
            row = list(row)
            for i, fn in fns:
                if row[i] is not None:
                    row[i] = fn(row[i])
        total += int.from_bytes(hashlib.blake2b(repr(tuple(row)).encode("utf-8", "backslashreplace"),
                                                digest_size=16).digest(), "big")
        n += 1
    return n, total % MOD


def fold_side(side: str, endpoint: Endpoint, table: Table) -> tuple[str, str, int, int, int]:
    """(table, side, rows, checksum, rejected) for one side; both sides of a table run in parallel processes.

    Source values go through the plan's converters (rejected rows are counted apart), target values as read.
    """
    if side == "source":
        rejects: list[Any] = []
        n = total = 0
        for batch in source_rows(endpoint, table):
            n += len(batch)
            _, s = _fold(table, converted(table, batch, rejects))
            total = (total + s) % MOD
            report_progress(table.target, n)
        return table.target, side, n, total, len(rejects)
    cols = ", ".join(quote_ident(c.target) for c in table.columns)
    sql = f"SELECT {cols} FROM {quote_ident(table.target)}"
    if endpoint.kind == "postgresql":
        with psycopg.connect(endpoint.dsn, options="-c TimeZone=UTC") as pg, pg.cursor(name="hyperpage_verify") as cur:
            cur.itersize = 5000
            cur.execute(sql)
            n, total = _fold(table, cur)
    else:
        conn = sqlite3.connect(endpoint.sqlite_uri(), uri=True)
        try:
            n, total = _fold(table, conn.execute(sql))
        finally:
            conn.close()
    return table.target, side, n, total, 0


def combine(results: list[tuple[str, str, int, int, int]]) -> list[TableCheck]:
    sides = {(t, side): (n, total, rej) for t, side, n, total, rej in results}
    return [TableCheck(t, sides[t, "source"][0], sides[t, "source"][2], sides[t, "target"][0],
                       f"{sides[t, 'source'][1]:032x}", f"{sides[t, 'target'][1]:032x}")
            for t in sorted({t for t, _ in sides})]


def fk_problems(target: Endpoint) -> list[str]:
    """Rows that reference nothing: validated foreign keys must have none (NOT VALID ones are reported)."""
    if target.kind == "sqlite":
        conn = sqlite3.connect(target.sqlite_uri(), uri=True)
        try:
            bad = conn.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            conn.close()
        return [f"{t}: row {rowid} references missing {parent}" for t, rowid, parent, _ in bad[:20]]
    problems = []
    with psycopg.connect(target.dsn) as pg:
        fks = pg.execute("""
            SELECT format('%I.%I', n.nspname, cl.relname), format('%I.%I', pn.nspname, pc.relname), c.conname,
                   c.convalidated,
                   array(SELECT format('%I', attname) FROM unnest(c.conkey) WITH ORDINALITY k(a, o)
                         JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.a ORDER BY o),
                   array(SELECT format('%I', attname) FROM unnest(c.confkey) WITH ORDINALITY k(a, o)
                         JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.a ORDER BY o)
            FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
            JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE c.contype = 'f' AND n.nspname = 'public'""").fetchall()
        for child, parent, name, validated, cols, refs in fks:
            on = " AND ".join(f"p.{r} = c.{f}" for f, r in zip(cols, refs, strict=True))
            notnull = " AND ".join(f"c.{f} IS NOT NULL" for f in cols)
            orphans = pg.execute(f"SELECT count(*) FROM {child} c WHERE {notnull} AND NOT EXISTS "
                                 f"(SELECT 1 FROM {parent} p WHERE {on})").fetchone()[0]
            if orphans and validated:
                problems.append(f"{child}: {orphans} rows violate {name}")
    return problems


def sequence_problems(target: Endpoint) -> list[str]:
    """Every identity/serial sequence must hand out a value above the column's maximum."""
    if target.kind == "sqlite":
        return []
    problems = []
    with psycopg.connect(target.dsn) as pg:
        cols = pg.execute("""
            SELECT format('%I', table_name), column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%')""").fetchall()
        for table, column in cols:
            seq = pg.execute("SELECT pg_get_serial_sequence(%s, %s)", (table, column)).fetchone()[0]
            if seq is None:
                continue
            last, called = pg.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
            nxt = last + 1 if called else last
            top = pg.execute(f"SELECT max({quote_ident(column)}) FROM {table}").fetchone()[0]
            if top is not None and nxt <= top:
                problems.append(f"{table}.{column}: next value {nxt} is not above the maximum id {top}")
    return problems


def open_sqlite(target: Endpoint) -> sqlite3.Connection:
    return open_source(target)
