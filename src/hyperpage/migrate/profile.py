"""What each column of a SQLite table holds, for the generic plan's type decisions (typing_rules.decide).

Two passes over a table, each ONE query per chunk of rowids for all its columns at once (not a scan per column
and check), the chunks shared between the planning connections (SQLite releases the GIL while it scans, so
two connections keep both cores busy):

1. storage-class counts of every column (four counts packed in one sum: a chunk has fewer than 2**15 rows) and
   the integer range where integers can be stored;
2. only for the columns that need it: their text joined per chunk for one UTF-8 decode in Python, the integer
   range of mixed columns, and a count of the values SQLite cannot prove fit the declared candidate type
   (boolean, JSON, date, timestamp). Only a column with such values is read again, value by value.

A table without a usable rowid (WITHOUT ROWID, or every rowid name taken by a column) is profiled by
whole-table queries, column by column.
"""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from hyperpage.migrate.candidates import all_proven, candidate_kinds, ints_fit, known_good, scan_candidates, unproven
from hyperpage.migrate.plan import MigrationError, quote_ident
from hyperpage.migrate.typing_rules import Profile, affinity

CHUNK = 1 << 14  # rows per query at most
FIELD = 1 << 15  # one storage-class count of a chunk; four of them fill 60 bits of SQLite's 64-bit sum
PACK = 1 << 32  # whole-table queries: two counts in one sum, exact while a table has fewer than 2**31 rows
SCAN_CHUNK = 20_000
T = TypeVar("T")


def on_connections(conns: list[sqlite3.Connection], tasks: list[Callable[[sqlite3.Connection], T]]) -> list[T]:
    """Run the tasks in threads, one per connection (each task gets a free one); results in the tasks' order."""
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


def _row(sql: str, args: tuple[int, ...], conn: sqlite3.Connection) -> tuple[Any, ...]:
    row: tuple[Any, ...] = conn.execute(sql, args).fetchone()
    return row


def chunks(conn: sqlite3.Connection, table: str, rowid: str | None, total: int) -> list[tuple[int, int]] | None:
    """Rowid ranges of at most CHUNK rows that cover the table; None when it has no rowid to range over."""
    t = quote_ident(table)
    if rowid is None:
        return None
    try:
        lo, hi = conn.execute(f"SELECT min({rowid}), max({rowid}) FROM {t}").fetchone()
    except sqlite3.OperationalError:  # WITHOUT ROWID
        return None
    if lo is None:
        return []
    if hi - lo < 64 * max(total, CHUNK):  # dense enough: fixed ranges, few of them empty
        return [(start, min(start + CHUNK - 1, hi)) for start in range(lo, hi + 1, CHUNK)]
    found, start = [], lo  # sparse rowids (say 1 and 2**62): ranges of CHUNK rows each, found by stepping
    while start is not None:
        nxt = conn.execute(
            f"SELECT {rowid} FROM {t} WHERE {rowid} >= ? ORDER BY {rowid} LIMIT 1 OFFSET {CHUNK}", (start,)
        ).fetchone()
        found.append((start, nxt[0] - 1 if nxt else hi))
        start = nxt[0] if nxt else None
    return found


def profile_table(
    conns: list[sqlite3.Connection], table: str, cols: list[tuple[str, str]], rowid_alias: str | None, rowid: str | None
) -> list[Profile]:
    """A Profile per column of `cols` (name, declared type); `rowid`: a name of the rowid no column shadows."""
    t = quote_ident(table)
    total = conns[0].execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    if total >= PACK // 2:
        raise MigrationError(f"{table}: {total:,} rows; tables of 2**31 rows or more are not supported")
    ranges = chunks(conns[0], table, rowid, total)
    profiles = {name: Profile() for name, _ in cols}
    if rowid_alias is not None:  # integers by definition; the range is read off the b-tree's ends
        alias = quote_ident(rowid_alias)
        lo, hi = conns[0].execute(f"SELECT min({alias}), max({alias}) FROM {t}").fetchone()
        profiles[rowid_alias] = Profile(n_int=total, min_int=lo, max_int=hi)
    data = [(name, declared) for name, declared in cols if name != rowid_alias]
    _storage_pass(conns, t, data, profiles, ranges, rowid)
    for name, _ in data:
        p = profiles[name]
        p.n_null = total - p.n_int - p.n_real - p.n_text - p.n_blob
    if ranges is None:  # no rowid to chunk by: the whole-table scans, column by column
        for name, declared in data:
            p = profiles[name]
            if _mixed_ints(p, declared):
                c = quote_ident(name)
                p.min_int, p.max_int = conns[0].execute(f"SELECT {', '.join(_int_range(c))} FROM {t}").fetchone()
            if p.n_text or (p.n_blob and (p.n_int or p.n_real)):
                _utf8_values(
                    conns[0], f"SELECT CAST({quote_ident(name)} AS BLOB), typeof({quote_ident(name)}) FROM {t}", p
                )
            scan_candidates(conns[0], table, name, declared.upper(), p)
    else:
        _check_pass(conns, table, data, profiles, ranges, rowid or "rowid")
    return [profiles[name] for name, _ in cols]


def _storage_pass(
    conns: list[sqlite3.Connection],
    t: str,
    data: list[tuple[str, str]],
    profiles: dict[str, Profile],
    ranges: list[tuple[int, int]] | None,
    rowid: str | None,
) -> None:
    """Pass 1: storage classes, and min/max where integers can be stored (exact unless the column is mixed)."""
    parts = ["count(*)"]
    for name, declared in data:
        c = quote_ident(name)
        if ranges is None:
            parts += [
                f"sum(CASE typeof({c}) WHEN 'integer' THEN 1 WHEN 'real' THEN {PACK} END)",
                f"sum(CASE typeof({c}) WHEN 'text' THEN 1 WHEN 'blob' THEN {PACK} END)",
            ]
        else:
            parts.append(
                f"sum(CASE typeof({c}) WHEN 'integer' THEN 1 WHEN 'real' THEN {FIELD} "
                f"WHEN 'text' THEN {FIELD**2} WHEN 'blob' THEN {FIELD**3} END)"
            )
        if affinity(declared) not in ("TEXT", "REAL"):  # those affinities convert integers on the way in
            parts += [f"min({c})", f"max({c})"]  # numbers sort first: plain min/max, fixed in pass 2 if mixed
    sql = f"SELECT {', '.join(parts)} FROM {t}"
    if ranges is None:
        rows = [conns[0].execute(sql).fetchone()]
    else:
        tasks: list[Callable[[sqlite3.Connection], tuple[Any, ...]]] = [
            partial(_row, f"{sql} WHERE {rowid} BETWEEN ? AND ?", r) for r in ranges
        ]
        rows = on_connections(conns, tasks)
    for row in rows:
        at = 1
        for name, declared in data:
            p = profiles[name]
            if ranges is None:
                numbers, strings = row[at] or 0, row[at + 1] or 0
                counts = (numbers % PACK, numbers // PACK, strings % PACK, strings // PACK)
                at += 2
            else:
                packed = row[at] or 0
                counts = (packed % FIELD, packed // FIELD % FIELD, packed // FIELD**2 % FIELD, packed // FIELD**3)
                at += 1
            p.n_int, p.n_real, p.n_text, p.n_blob = (
                a + b for a, b in zip((p.n_int, p.n_real, p.n_text, p.n_blob), counts, strict=True)
            )
            if affinity(declared) not in ("TEXT", "REAL"):
                _widen(p, row[at], row[at + 1])
                at += 2
    for name, declared in data:  # the plain min/max saw non-integers too, or no integers at all
        p = profiles[name]
        if not p.n_int or affinity(declared) in ("TEXT", "REAL"):
            p.min_int = p.max_int = None


def _mixed_ints(p: Profile, declared: str) -> bool:
    """Integers among other storage classes: the plain min/max of pass 1 may have been a real, text or blob."""
    return bool(p.n_int and (p.n_real or p.n_text or p.n_blob) and affinity(declared) not in ("TEXT", "REAL"))


def _int_range(c: str) -> list[str]:
    return [f"{f}(CASE WHEN typeof({c})='integer' THEN {c} END)" for f in ("min", "max")]


def _widen(p: Profile, lo: Any, hi: Any) -> None:
    if isinstance(lo, int):
        p.min_int = lo if p.min_int is None else min(p.min_int, lo)
    if isinstance(hi, int):
        p.max_int = hi if p.max_int is None else max(p.max_int, hi)


def _check_pass(
    conns: list[sqlite3.Connection],
    table: str,
    data: list[tuple[str, str]],
    profiles: dict[str, Profile],
    ranges: list[tuple[int, int]],
    rowid: str,
) -> None:
    """Pass 2, for the columns that need it: UTF-8 and U+0000, mixed integer ranges, candidate-type values."""
    t = quote_ident(table)
    parts: list[str] = []
    jobs: list[tuple[str, str, int]] = []  # (column, what, position in the row)
    for name, declared in data:
        p, c = profiles[name], quote_ident(name)
        if p.n_text:
            jobs.append((name, "text", len(parts)))
            parts.append(f"CAST(group_concat(CASE typeof({c}) WHEN 'text' THEN CAST({c} AS BLOB) END, x'0a') AS BLOB)")
        if p.n_blob and (p.n_text or p.n_int or p.n_real):  # blobs alone become bytea: no decoding
            jobs.append((name, "blob", len(parts)))
            parts.append(f"CAST(group_concat(CASE typeof({c}) WHEN 'blob' THEN {c} END, x'0a') AS BLOB)")
        if _mixed_ints(p, declared):
            jobs.append((name, "range", len(parts)))
            parts += _int_range(c)
        kinds = candidate_kinds(declared.upper())
        if any(kinds) and not p.n_blob:  # a blob rules every candidate type out, no reading needed
            good = known_good(c, *kinds, divisor=None)
            jobs.append((name, "unproven", len(parts)))
            parts.append(f"sum(CASE WHEN {c} IS NULL THEN 0 ELSE {unproven(good)} END)")
    if parts:
        sql = f"SELECT {', '.join(parts)} FROM {t} WHERE {rowid} BETWEEN ? AND ?"
        found = on_connections(conns, [partial(_chunk_checks, sql, jobs, t, rowid, r) for r in ranges])
        for per_chunk in found:
            for (name, what), value in per_chunk.items():
                _merge(profiles[name], what, value)
    for name, declared in data:
        p = profiles[name]
        if any(candidate_kinds(declared.upper())):
            if not (p.unproven or p.n_blob or p.bad_utf8 or p.nul_text) and ints_fit(p, declared.upper()):
                all_proven(p, declared.upper())
            else:  # a value SQLite could not prove (or integers out of range): every distinct one checked
                scan_candidates(conns[0], table, name, declared.upper(), p)


def _chunk_checks(
    sql: str, jobs: list[tuple[str, str, int]], t: str, rowid: str, bounds: tuple[int, int], conn: sqlite3.Connection
) -> dict[tuple[str, str], Any]:
    """One chunk's checks; joined text is decoded here, and only a chunk that fails is read value by value."""
    row = conn.execute(sql, bounds).fetchone()
    out: dict[tuple[str, str], Any] = {}
    for name, what, at in jobs:
        value = row[at]
        if what in ("text", "blob"):
            try:
                (value or b"").decode("utf-8")
                clean = what == "blob" or b"\x00" not in (value or b"")
            except UnicodeDecodeError:
                clean = False
            if not clean:  # this chunk again, value by value, to count the values at fault
                c = quote_ident(name)
                p = Profile()
                _utf8_values(
                    conn,
                    f"SELECT CAST({c} AS BLOB), typeof({c}) FROM {t} WHERE {rowid} BETWEEN {bounds[0]} AND "
                    f"{bounds[1]} AND typeof({c}) = '{what}'",
                    p,
                )
                out[name, what] = (p.nul_text, p.bad_utf8, p.blob_not_utf8)
        elif what == "range":
            out[name, what] = (row[at], row[at + 1])
        elif value:
            out[name, what] = value
    return out


def _merge(p: Profile, what: str, value: Any) -> None:
    if what in ("text", "blob"):
        p.nul_text += value[0]
        p.bad_utf8 += value[1]
        p.blob_not_utf8 += value[2]
    elif what == "range":
        _widen(p, *value)
    else:
        p.unproven += value


def _utf8_values(conn: sqlite3.Connection, sql: str, p: Profile) -> None:
    cur = conn.execute(sql)
    while chunk := cur.fetchmany(SCAN_CHUNK):
        for value, storage in chunk:
            if storage not in ("text", "blob"):
                continue
            if storage == "text" and b"\x00" in value:
                p.nul_text += 1
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                if storage == "text":
                    p.bad_utf8 += 1
                else:
                    p.blob_not_utf8 += 1
