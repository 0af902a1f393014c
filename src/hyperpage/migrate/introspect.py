"""Read any SQLite file (read-only) and build a generic-mode plan: schema, value profiles, type decisions."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from hyperpage.migrate import ddl
from hyperpage.migrate.plan import Column, Endpoint, MigrationError, Plan, Table, copies_as_is, quote_ident, shorten
from hyperpage.migrate.profile import profile_table
from hyperpage.migrate.typing_rules import Profile, decide, to_bool

# PostgreSQL's system columns: a user column of that name is refused by CREATE TABLE, so it gets a "_" suffix
SYSTEM_COLUMNS = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"}
ROWID_ALIASES = ("rowid", "_rowid_", "oid")  # a user column may shadow any of them, not all three


def open_source(endpoint: Endpoint) -> sqlite3.Connection:
    assert endpoint.path is not None
    if not endpoint.path.is_file():
        raise FileNotFoundError(f"SQLite file not found: {endpoint.path}")
    conn = sqlite3.connect(endpoint.sqlite_uri(), uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn


def check_integrity(endpoint: Endpoint) -> None:
    """Refuse a file that is not SQLite, or is truncated or damaged, before anything is read or written.

    quick_check reads every page once (a fraction of the copy's time) and finds what would otherwise surface
    as a "malformed" error in the middle of a table's copy.
    """
    try:
        conn = open_source(endpoint)
        try:
            found = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"{endpoint.path} is not a readable SQLite database: {exc}") from None
    if found != ["ok"]:
        raise MigrationError(
            f"{endpoint.path} is damaged (SQLite quick_check: {'; '.join(found)}): recover it "
            "first, e.g. `sqlite3 FILE .recover | sqlite3 NEW-FILE`, and migrate the recovered file"
        )


@contextmanager
def checked_while(endpoint: Endpoint) -> Iterator[None]:
    """check_integrity() in a thread while the block plans (it reads, never writes): the block's result stands
    only when the file is sound, and a damaged file's message wins over whatever error the damage caused.

    quick_check reads every page: 0.5 s for the 1M-row generic file, 1.3 s for the Hyperpage one, time the
    planning's own reads now cover on the other core. (integrity_check, which also matches every index entry to
    its row, took 4x longer there; pgloader checks nothing.)
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        check = pool.submit(check_integrity, endpoint)
        try:
            yield
        except Exception:
            check.result()
            raise
        check.result()


def user_tables(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Ordinary and virtual tables; shadow tables (an FTS5 index's _data, an R*Tree's _node) are not data."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name"
    ).fetchall()
    shadow = {r[1] for r in conn.execute("PRAGMA table_list") if r[2] == "shadow"}
    return [(name, sql or "") for name, sql in rows if name not in shadow]


def virtual_module(sql: str) -> str | None:
    m = re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE\s+.*?\bUSING\s+(\w+)", sql, re.I | re.S)
    return m.group(1).lower() if m else None


def _warn_about_values(plan: Plan, table: str, column: str, kind: str, p: Profile) -> None:
    """Interpretations an operator must know about, in every run (the plan's warnings reach the report)."""
    if kind == "ts" and (p.n_int or p.n_real):
        unit = {1: "seconds", 1000: "milliseconds", 1_000_000: "microseconds"}[p.epoch_divisor]
        plan.warnings.append(
            f"{table}.{column}: {p.n_real} REAL values read as Julian day numbers (as SQLite's datetime() reads "
            f"them, to the millisecond) and {p.n_int} integers as Unix epoch {unit}: check a few rows"
        )
    if p.sub_microsecond:
        plan.warnings.append(
            f"{table}.{column}: {p.sub_microsecond} values with 7 to 9 fractional digits (below "
            "the microsecond, "
            "which timestamptz cannot hold): the column is kept as text, exactly"
        )


PLAN_CONNECTIONS = 2  # the machine's cores are few; the copy that follows uses --workers


def build_generic_plan(endpoint: Endpoint) -> Plan:
    conns = [open_source(endpoint) for _ in range(PLAN_CONNECTIONS)]
    try:
        return _build(conns, endpoint)
    finally:
        for conn in conns:
            conn.close()


def _build(conns: list[sqlite3.Connection], endpoint: Endpoint) -> Plan:
    conn = conns[0]
    plan = Plan(mode="generic", source=endpoint.display, tables=[])
    used: set[str] = set()
    names: dict[str, str] = {}
    raw = user_tables(conn)
    for name, _ in raw:
        names[name] = shorten(name, used)
    for obj_type, obj_name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY name"
    ):
        plan.warnings.append(f"{obj_type} {obj_name!r} is not migrated (SQLite SQL): recreate it by hand")
    for name, sql in raw:
        module = virtual_module(sql)
        if module is not None:
            try:
                conn.execute(f"SELECT * FROM {quote_ident(name)} LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                plan.warnings.append(f"virtual table {name!r} ({module}) cannot be read here ({exc}): not migrated")
                continue
            plan.warnings.append(
                f"virtual table {name!r} ({module}) is copied as a plain table of its columns; "
                f"its {module} index (shadow tables) is not migrated: rebuild it in PostgreSQL "
                "(e.g. a tsvector column and a GIN index for fts5)"
            )
        info = conn.execute(f"PRAGMA table_xinfo({quote_ident(name)})").fetchall()
        cols = [(r[1], r[2] or "") for r in info if r[6] in (0, 2, 3)]
        pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        without_rowid = bool(re.search(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", sql, re.I))
        rowid_alias = (
            len(pk) == 1 and not without_rowid and next(d for c, d in cols if c == pk[0]).strip().upper() == "INTEGER"
        )
        taken = {c.lower() for c, _ in cols}
        rowid = None if without_rowid else next((a for a in ROWID_ALIASES if a not in taken), None)
        profiles = profile_table(conns, name, cols, pk[0] if rowid_alias else None, rowid)
        col_used: set[str] = set()
        columns = []
        for (cname, declared), prof, r in zip(cols, profiles, [r for r in info if r[6] in (0, 2, 3)], strict=True):
            d = decide(declared, prof)
            if r[6]:
                plan.warnings.append(f"{name}.{cname} is a generated column: copied as plain values")
            _warn_about_values(plan, name, cname, d.kind, prof)
            identity = rowid_alias and cname == pk[0]
            target = cname + "_" if cname.lower() in SYSTEM_COLUMNS else cname
            if target != cname:
                plan.warnings.append(f"{name}.{cname} is a PostgreSQL system column name: renamed to {target}")
            columns.append(
                Column(
                    source=cname,
                    target=shorten(target, col_used),
                    pg_type=d.pg_type,
                    kind=d.kind,
                    epoch_divisor=prof.epoch_divisor,
                    select=f"CAST({quote_ident(cname)} AS BLOB)" if d.read_as_blob else quote_ident(cname),
                    convert=d.convert,
                    not_null=bool(r[3]),
                    default=r[4],
                    identity=identity,
                    decision=d.why + ("; rowid alias: identity, sequence reset past the maximum" if identity else ""),
                    as_is=copies_as_is(d.pg_type)
                    and (d.convert in (None, to_bool) or (d.kind == "ts" and prof.ts_plain)),
                )
            )
        free = [a for a in ROWID_ALIASES if a not in {c.lower() for c, _ in cols}]
        key = (
            (free or ["NULL"])[0]
            if not without_rowid
            else " || ',' || ".join(f"quote({quote_ident(c)})" for c in pk) or "NULL"
        )
        table = Table(
            source=name,
            target=names[name],
            columns=columns,
            key=key,
            rows=conn.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()[0],
            identity=next((c.target for c in columns if c.identity), None),
            not_null_pk=[
                c[0] for c, p in zip(cols, profiles, strict=True) if c[0] in pk and p.n_null and not rowid_alias
            ],
        )
        table.depends_on = {
            names[r[2]]
            for r in conn.execute(f"PRAGMA foreign_key_list({quote_ident(name)})")
            if r[2] in names and r[2] != name
        }
        plan.tables.append(table)
        ddl.generic_table_ddl(conn, plan, table, sql, pk, used)
    ddl.generic_fk_ddl(conn, plan, names, used)
    return plan
