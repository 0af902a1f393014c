"""Read any SQLite file (read-only) and build a generic-mode plan: schema, value profiles, type decisions."""

from __future__ import annotations

import queue
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from hyperpage.migrate import ddl
from hyperpage.migrate.plan import (
    Column,
    Endpoint,
    MigrationError,
    Plan,
    Reject,
    Table,
    copies_as_is,
    quote_ident,
    shorten,
)
from hyperpage.migrate.typing_rules import (
    BOOL_TEXT,
    Profile,
    affinity,
    decide,
    json_problem,
    parse_ts,
    to_bool,
    to_date,
)

SCAN_CHUNK = 20_000
# PostgreSQL's system columns: a user column of that name is refused by CREATE TABLE, so it gets a "_" suffix
SYSTEM_COLUMNS = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"}
ROWID_ALIASES = ("rowid", "_rowid_", "oid")  # a user column may shadow any of them, not all three
T = TypeVar("T")


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


PACK = 1 << 32  # two storage-class counts in one sum: exact while a table has fewer than 2**31 rows


def on_connections(conns: list[sqlite3.Connection], tasks: list[Callable[[sqlite3.Connection], T]]) -> list[T]:
    """Run the tasks in threads, one per connection (each task gets a free one); results in the tasks' order.

    SQLite releases the GIL while it scans, so two connections to the file keep both cores busy planning.
    """
    if len(conns) == 1 or len(tasks) == 1:
        return [task(conns[0]) for task in tasks]
    free: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
    for conn in conns:
        free.put(conn)

    def run(task: Callable[[sqlite3.Connection], T]) -> T:
        conn = free.get()
        try:
            return task(conn)
        finally:
            free.put(conn)

    with ThreadPoolExecutor(max_workers=len(conns)) as pool:
        return list(pool.map(run, tasks))


def _one_row(sql: str, conn: sqlite3.Connection) -> tuple[Any, ...]:
    row: tuple[Any, ...] = conn.execute(sql).fetchone()
    return row


def profile_table(
    conns: list[sqlite3.Connection], table: str, cols: list[tuple[str, str]], rowid_alias: str | None = None
) -> list[Profile]:
    """Scans in SQLite for storage-class counts, then Python scans only of the columns that need them.

    Two sums per column (integer and real counts packed in one, text and blob in the other), the integer range
    only where integers can be stored (not under TEXT or REAL affinity, which convert them), and nothing for a
    rowid alias (integers by definition; its range is read off the b-tree's ends). The columns are split
    between the connections (one aggregate query per connection, at the same time), as are the later scans.
    """
    t = quote_ident(table)
    conn = conns[0]
    total = conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    if total >= PACK // 2:
        raise MigrationError(f"{table}: {total:,} rows; tables of 2**31 rows or more are not supported")
    parts: list[str] = []
    at: list[int] = []
    for name, declared in cols:
        at.append(len(parts))
        if name == rowid_alias:
            continue
        c = quote_ident(name)
        parts += [
            f"sum(CASE typeof({c}) WHEN 'integer' THEN 1 WHEN 'real' THEN {PACK} END)",
            f"sum(CASE typeof({c}) WHEN 'text' THEN 1 WHEN 'blob' THEN {PACK} END)",
        ]
        if affinity(declared) not in ("TEXT", "REAL"):
            parts += [
                f"min(CASE WHEN typeof({c})='integer' THEN {c} END)",
                f"max(CASE WHEN typeof({c})='integer' THEN {c} END)",
            ]
    half = (len(parts) // 2) if len(conns) > 1 else len(parts)
    halves = [h for h in (parts[:half], parts[half:]) if h] or [["NULL"]]
    row = [
        v
        for found in on_connections(conns, [partial(_one_row, f"SELECT {', '.join(h)} FROM {t}") for h in halves])
        for v in found
    ]
    taken = {n.lower() for n, _ in cols}
    rowid = next((a for a in ROWID_ALIASES if a not in taken), None)
    profiles = []
    for i, (name, declared) in enumerate(cols):
        if name == rowid_alias:
            alias = quote_ident(name)
            lo, hi = conn.execute(f"SELECT min({alias}), max({alias}) FROM {t}").fetchone()
            profiles.append(Profile(n_int=total, min_int=lo, max_int=hi))
            continue
        numbers, strings = row[at[i]] or 0, row[at[i] + 1] or 0
        ranged = affinity(declared) not in ("TEXT", "REAL")
        p = Profile(
            n_int=numbers % PACK,
            n_real=numbers // PACK,
            n_text=strings % PACK,
            n_blob=strings // PACK,
            min_int=row[at[i] + 2] if ranged else None,
            max_int=row[at[i] + 3] if ranged else None,
        )
        p.n_null = total - p.n_int - p.n_real - p.n_text - p.n_blob
        profiles.append(p)

    def scan(conn: sqlite3.Connection, name: str, declared: str, p: Profile) -> None:
        if p.n_text or (p.n_blob and (p.n_int or p.n_real)):  # blobs alone become bytea: no decoding
            _scan_utf8(conn, table, name, p, rowid)
        _scan_candidates(conn, table, name, declared.upper(), p)  # after _scan_utf8: it reads its counts

    on_connections(
        conns,
        [
            partial(scan, name=name, declared=declared, p=p)
            for (name, declared), p in zip(cols, profiles, strict=True)
            if name != rowid_alias
        ],
    )
    return profiles


def _scan_utf8(conn: sqlite3.Connection, table: str, name: str, p: Profile, rowid: str | None) -> None:
    """Count text values that are not UTF-8 or hold U+0000, and blobs that are not UTF-8 (read as text).

    SQLite joins each chunk of values into one string (group_concat, by rowid range) that Python decodes at
    once; only a chunk that fails is read again value by value. Joined with b"\\n" a chunk decodes only if
    every value does (a newline is never a continuation byte).
    """
    c, t = quote_ident(name), quote_ident(table)
    try:
        if rowid is None:
            raise sqlite3.OperationalError("every rowid name is a column")
        lo, hi = conn.execute(f"SELECT min({rowid}), max({rowid}) FROM {t}").fetchone()
    except sqlite3.OperationalError:  # WITHOUT ROWID (or no name left for the rowid): value by value
        _scan_utf8_values(
            conn, f"SELECT CAST({c} AS BLOB), typeof({c}) FROM {t} WHERE typeof({c}) IN ('text', 'blob')", p
        )
        return
    if lo is None:
        return
    step = 50_000
    for start in range(lo, hi + 1, step):
        where = f"{rowid} BETWEEN {start} AND {start + step - 1}"
        texts, blobs = conn.execute(
            f"SELECT CAST(group_concat(CASE typeof({c}) WHEN 'text' THEN CAST({c} AS BLOB) END, x'0a') AS BLOB), "
            f"CAST(group_concat(CASE typeof({c}) WHEN 'blob' THEN {c} END, x'0a') AS BLOB) FROM {t} WHERE {where}"
        ).fetchone()
        try:
            (texts or b"").decode("utf-8")
            (blobs or b"").decode("utf-8")
            if b"\x00" not in (texts or b""):
                continue
        except UnicodeDecodeError:
            pass
        _scan_utf8_values(
            conn,
            f"SELECT CAST({c} AS BLOB), typeof({c}) FROM {t} WHERE {where} AND typeof({c}) IN ('text', 'blob')",
            p,
        )


def _scan_utf8_values(conn: sqlite3.Connection, sql: str, p: Profile) -> None:
    cur = conn.execute(sql)
    while chunk := cur.fetchmany(SCAN_CHUNK):
        for value, storage in chunk:
            if storage == "text" and b"\x00" in value:
                p.nul_text += 1
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                if storage == "text":
                    p.bad_utf8 += 1
                else:
                    p.blob_not_utf8 += 1


def _scan_candidates(conn: sqlite3.Connection, table: str, name: str, declared: str, p: Profile) -> None:
    """Check every value of boolean, JSON and date/time candidates: one bad value keeps the wider type."""
    is_bool = "BOOL" in declared or declared in ("BIT", "TINYINT(1)")
    is_json = "JSON" in declared
    is_date = declared.startswith("DATE") and "TIME" not in declared
    is_ts = "TIMESTAMP" in declared or "DATETIME" in declared
    if not (is_bool or is_json or is_date or is_ts):
        return
    p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = True
    if p.n_blob or p.bad_utf8 or p.nul_text:
        p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = False
        p.json_problem = p.ts_problem = "holds blobs or undecodable text"
        return
    c = quote_ident(name)
    if is_ts and p.n_int:
        biggest = max(abs(p.min_int or 0), abs(p.max_int or 0))
        p.epoch_divisor = 1_000_000 if biggest >= 10**14 else 1000 if biggest >= 10**11 else 1
    good = _known_good(c, is_bool, is_json, is_date, is_ts, p.epoch_divisor)
    cur = conn.execute(
        f"SELECT DISTINCT {c} FROM {quote_ident(table)} WHERE {c} IS NOT NULL"
        + (f" AND NOT coalesce({good}, 0)" if good else "")
    )
    bad = checked = 0
    while chunk := cur.fetchmany(SCAN_CHUNK):
        checked += len(chunk)
        for (value,) in chunk:
            ok, problem = _check(value, is_bool, is_json, is_date, p.epoch_divisor)
            if not ok:
                bad += 1
                p.sub_microsecond += "below the microsecond" in problem
                if len(p.examples) < 3:
                    p.examples.append(repr(value)[:40])
                p.json_problem = p.json_problem or problem
                p.ts_problem = p.ts_problem or problem
    # every value text of the forms SQLite proved: PostgreSQL reads each as parse_ts would, COPY can take them
    p.ts_plain = is_ts and not checked and not (p.n_int or p.n_real)
    if bad:
        p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = False
        p.ts_problem = f"{bad} distinct values do not parse, e.g. {', '.join(p.examples)}"
        p.json_problem = f"{bad} distinct values are not jsonb-safe, e.g. {p.json_problem}"


_D = "[0-9]"
_YMD = f"{_D * 4}-{_D * 2}-{_D * 2}"
_HMS = f"{_D * 2}:{_D * 2}:{_D * 2}"
MIN_EPOCH, MAX_EPOCH = -62135596800, 253402300799  # 0001-01-01 and 9999-12-31 23:59:59, Python's range


def _known_good(c: str, is_bool: bool, is_json: bool, is_date: bool, is_ts: bool, divisor: int) -> str:
    """SQL true for values SQLite proves fit the candidate type, so only the others are checked in Python.

    The common forms only, each stricter than the Python check: a boolean as 0/1 or t/f/true/false; a timestamp
    as YYYY-MM-DD[ T]HH:MM:SS with 0, 3 or 6 fraction digits or a bare date, on a real calendar day of years
    1-9999 (days up to 28 need no look at the calendar; julianday() normalises Feb 30, so a later day must come
    back unchanged), hours below 24, minutes and seconds below 60; an epoch integer in range; JSON that
    json_valid() accepts, without \\u0000 and without a key twice in one object (only text with a "{" can have a
    key; only one "{" at the start is one object, which json_each() lists; anything else gets json_tree()).
    """
    day = (
        f"substr({c}, 1, 4) <> '0000' AND (substr({c}, 9, 2) BETWEEN '01' AND '28' AND substr({c}, 6, 2) "
        f"BETWEEN '01' AND '12' OR date(julianday(substr({c}, 1, 10))) = substr({c}, 1, 10))"
    )
    if is_ts:
        forms = (
            f"substr({c}, 1, 19) GLOB '{_YMD}[ T]{_HMS}' AND (length({c}) = 19 OR length({c}) IN (23, 26) AND "
            f"substr({c}, 20, 1) = '.' AND substr({c}, 21) NOT GLOB '*[^0-9]*')"
        )
        clock = f"substr({c}, 12, 2) < '24' AND substr({c}, 15, 2) < '60' AND substr({c}, 18, 2) < '60'"
        return (
            f"(typeof({c}) = 'text' AND (({forms}) AND {clock} OR {c} GLOB '{_YMD}') AND {day}) "
            f"OR (typeof({c}) = 'integer' AND {c} / {divisor} BETWEEN {MIN_EPOCH} AND {MAX_EPOCH})"
        )
    if is_date:
        return f"typeof({c}) = 'text' AND {c} GLOB '{_YMD}' AND {day}"
    if is_bool:
        return (
            f"typeof({c}) = 'integer' AND {c} IN (0, 1) "
            f"OR typeof({c}) = 'text' AND lower({c}) IN ('0', '1', 't', 'f', 'true', 'false')"
        )
    if is_json:
        safe = f"CASE WHEN json_valid({c}) THEN {c} ELSE '[]' END"  # SQLite may run the subquery on any value
        return (
            f"typeof({c}) = 'text' AND json_valid({c}) AND instr({c}, '\\u0000') = 0 AND CASE "
            f"WHEN instr({c}, '{{') = 0 THEN 1 "
            f"WHEN substr(ltrim({c}), 1, 1) = '{{' AND instr(substr(ltrim({c}), 2), '{{') = 0 THEN "
            f"(SELECT count(*) = count(DISTINCT key) FROM json_each({safe})) "
            f"ELSE NOT EXISTS (SELECT 1 FROM json_tree({safe}) j WHERE j.parent IS NOT NULL GROUP BY j.parent, j.key "
            "HAVING count(*) > 1) END"
        )
    return ""


def _check(value: Any, is_bool: bool, is_json: bool, is_date: bool, divisor: int) -> tuple[bool, str]:
    if is_bool:
        ok = (isinstance(value, int) and value in (0, 1)) or (isinstance(value, str) and value.lower() in BOOL_TEXT)
        return ok, "not a boolean"
    if is_json:
        problem = json_problem(value)
        return not problem, problem
    try:
        to_date(value) if is_date else parse_ts(value, divisor)
    except (Reject, ValueError, OverflowError) as exc:
        return False, str(exc)
    return True, ""


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
        profiles = profile_table(conns, name, cols, pk[0] if rowid_alias else None)
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
