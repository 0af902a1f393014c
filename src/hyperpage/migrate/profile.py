"""What each column of a SQLite table holds, for the generic plan's type decisions (typing_rules.decide).

ONE query per chunk of rowids for all columns and facts at once (not a scan per column and check), the chunks
shared between the planning connections (SQLite releases the GIL while it scans, so two connections keep both
cores busy, with SQLite's memory statistics off: db/sqlite_tuning.py; on, the threads take turns on its lock).
Per column: its storage-class counts (four counts packed in one sum: a chunk has fewer than 2**15
rows; for a column holding one class at the table's ends, its non-NULL count, checked per chunk), the range
of its integers where integers can be stored, its text joined per chunk for one UTF-8 decode in Python (not
where proofs already rule out all but ASCII), and for a candidate type (boolean, JSON, date, timestamp) a
count of the values SQLite cannot prove fit. The first pass takes what the declared types make likely; a
second, only where the storage classes found call for more (see _chunked). Only a candidate column with
unproven values is read again, value by value.

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
from hyperpage.migrate.plan import MigrationError, ends_sql, quote_ident
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


def chunks(conn: sqlite3.Connection, table: str, rowid: str | None, total: int) -> list[tuple[int, int]] | None:
    """Rowid ranges of at most CHUNK rows that cover the table; None when it has no rowid to range over."""
    t = quote_ident(table)
    if rowid is None:
        return None
    try:
        lo, hi = conn.execute(ends_sql(t, rowid)).fetchone()
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
        lo, hi = conns[0].execute(ends_sql(t, alias)).fetchone()
        profiles[rowid_alias] = Profile(n_int=total, min_int=lo, max_int=hi)
    data = [(name, declared) for name, declared in cols if name != rowid_alias]
    if ranges is None:
        _whole_table(conns[0], table, data, profiles)
    else:
        _chunked(conns, table, data, profiles, ranges, rowid or "rowid")
    for name, _ in data:
        p = profiles[name]
        p.n_null = total - p.n_int - p.n_real - p.n_text - p.n_blob
    for name, declared in data:
        p, d = profiles[name], declared.upper()
        if not any(candidate_kinds(d)):
            continue
        if ranges is not None and not (p.unproven or p.n_blob or p.bad_utf8 or p.nul_text) and ints_fit(p, d):
            all_proven(p, d)
        else:  # a value SQLite could not prove (or integers out of range): every distinct one checked
            scan_candidates(conns[0], table, name, d, p)
    return [profiles[name] for name, _ in cols]


def _whole_table(
    conn: sqlite3.Connection, table: str, data: list[tuple[str, str]], profiles: dict[str, Profile]
) -> None:
    """No rowid to chunk by: the storage classes of every column in one query, then the rest column by column."""
    t = quote_ident(table)
    parts = ["count(*)"]
    for name, declared in data:
        c = quote_ident(name)
        parts += [
            f"sum(CASE typeof({c}) WHEN 'integer' THEN 1 WHEN 'real' THEN {PACK} END)",
            f"sum(CASE typeof({c}) WHEN 'text' THEN 1 WHEN 'blob' THEN {PACK} END)",
        ]
        if _has_ints(declared):
            parts += _int_range(c)
    row = conn.execute(f"SELECT {', '.join(parts)} FROM {t}").fetchone()
    at = 1
    for name, declared in data:
        p = profiles[name]
        numbers, strings = row[at] or 0, row[at + 1] or 0
        p.n_int, p.n_real, p.n_text, p.n_blob = numbers % PACK, numbers // PACK, strings % PACK, strings // PACK
        at += 2
        if _has_ints(declared):
            p.min_int, p.max_int = row[at], row[at + 1]
            at += 2
        if p.n_text or _mixed_blobs(p):
            c = quote_ident(name)
            _utf8_values(conn, f"SELECT CAST({c} AS BLOB), typeof({c}) FROM {t}", p)


def _has_ints(declared: str) -> bool:
    """Whether integers can be stored as such: TEXT and REAL affinities convert them on the way in."""
    return affinity(declared) not in ("TEXT", "REAL")


def _mixed_ints(p: Profile, declared: str) -> bool:
    """Integers among other storage classes: a plain min/max may have been a real, text or blob."""
    return bool(p.n_int and (p.n_real or p.n_text or p.n_blob) and _has_ints(declared))


def _mixed_blobs(p: Profile) -> bool:
    """Blobs among other storage classes: the column becomes text, so whether they are UTF-8 matters."""
    return bool(p.n_blob and (p.n_text or p.n_int or p.n_real))


def _int_range(c: str) -> list[str]:
    return [f"{f}(CASE WHEN typeof({c})='integer' THEN {c} END)" for f in ("min", "max")]


def _widen(p: Profile, lo: Any, hi: Any) -> None:
    if isinstance(lo, int):
        p.min_int = lo if p.min_int is None else min(p.min_int, lo)
    if isinstance(hi, int):
        p.max_int = hi if p.max_int is None else max(p.max_int, hi)


def _chunked(
    conns: list[sqlite3.Connection],
    table: str,
    data: list[tuple[str, str]],
    profiles: dict[str, Profile],
    ranges: list[tuple[int, int]],
    rowid: str,
) -> None:
    """ONE query per chunk for every fact the declared types call for, then one for what the values call for.

    What a query costs is its per-row work, column by column, not its scan: a fact computed where it does not
    apply costs about as much as one that does, and a second scan for what the first one found costs little. So
    the first query takes the facts a column's declared type makes likely (storage classes always; the integer
    range of INTEGER columns; text of TEXT, JSON and date/time columns; candidate checks), and the
    second only those the storage classes then call for (text in a column of another type, blobs among other
    classes, the range of integers found elsewhere, the exact range of a mixed column).
    """
    first: list[tuple[str, str]] = []  # (column, fact)
    expected = _expected_classes(conns[0], table, data, ranges, rowid)
    for name, declared in data:
        kinds = candidate_kinds(declared.upper())
        first.append((name, "count" if name in expected else "classes"))
        if affinity(declared) == "INTEGER":  # integers likely: a plain min/max, exact unless the column is mixed
            first.append((name, "minmax"))
        # JSON is text that json_valid() does not check for U+0000 or UTF-8; a date/time column's text is read
        # only where a value is unproven (second pass): its proofs accept ASCII without U+0000 alone
        if affinity(declared) == "TEXT" or kinds[1]:
            first.append((name, "text"))
        if any(kinds):
            first.append((name, "unproven"))
    declared_as = dict(data)
    if first:  # not when the rowid alias is the only column
        _chunk_pass(conns, table, first, declared_as, profiles, ranges, rowid, expected)
    second: list[tuple[str, str]] = []
    for name, declared in data:
        p = profiles[name]
        proven = _proven(p, declared)
        if p.n_text and (name, "text") not in first and not proven:
            second.append((name, "text"))
        if _mixed_blobs(p):
            second.append((name, "blob"))
        # integers where few were expected, or among other classes (a plain min or max may have been no integer);
        # not in a proven boolean or date column, whose type no integer range changes (a timestamp column's
        # integers are epoch values: their range picks the unit)
        ints_matter = not proven or candidate_kinds(declared.upper())[3]
        if (
            p.n_int
            and _has_ints(declared)
            and ints_matter
            and ((name, "minmax") not in first or _mixed_ints(p, declared))
        ):
            second.append((name, "range"))
    if second:
        _chunk_pass(conns, table, second, declared_as, profiles, ranges, rowid, {})


def _proven(p: Profile, declared: str) -> bool:
    """A boolean, date or timestamp column whose every value SQLite proved fits: such values are 0/1 or ASCII
    text without U+0000 (candidates.known_good), so their text needs no UTF-8 check, nor (but for epoch
    timestamps) their integers a range. JSON is not among them: json_valid() passes invalid UTF-8 and U+0000."""
    is_bool, _, is_date, is_ts = candidate_kinds(declared.upper())
    return (is_bool or is_date or is_ts) and not p.unproven


SAMPLE = 256  # rows read at each end of a table to predict its columns' storage classes
SLOT = {"integer": 0, "real": 1, "text": 2, "blob": 3}  # a storage class's place in a column's four counts
OF_CLASS = {"integer": "0", "real": "0.5", "text": "''", "blob": "x''"}  # a literal of each storage class


def _expected_classes(
    conn: sqlite3.Connection, table: str, data: list[tuple[str, str]], ranges: list[tuple[int, int]], rowid: str
) -> dict[str, str]:
    """The one storage class each column holds in the rows at both ends of the table, NULLs aside; a column with
    several there, or none, is counted class by class. A guess: _conforming() proves it chunk by chunk."""
    if not (ranges and data):
        return {}
    cols = ", ".join(f"typeof({quote_ident(name)})" for name, _ in data)
    seen: list[set[str]] = [set() for _ in data]
    for bounds in dict.fromkeys((ranges[0], ranges[-1])):
        sql = f"SELECT {cols} FROM {quote_ident(table)} WHERE {rowid} BETWEEN ? AND ? LIMIT {SAMPLE}"
        for row in conn.execute(sql, bounds):
            for found, storage in zip(seen, row, strict=True):
                found.add(storage)
    return {
        name: min(found - {"null"}) for (name, _), found in zip(data, seen, strict=True) if len(found - {"null"}) == 1
    }


def _conforming(expected: dict[str, str]) -> list[str]:
    """The chunk's rows, and those whose every column of `expected` is NULL or of its class: where the two agree,
    a column's non-NULL count is its count of that class. The CASE on typeof() per value of four counts by class
    was a quarter of the first pass's time on the bench's generic file; a count(c) per column and this one check
    per row cost about half as much. A chunk where a row does not conform is counted again, class by class."""
    checks = " AND ".join(f"typeof(coalesce({quote_ident(n)}, {OF_CLASS[k]})) = '{k}'" for n, k in expected.items())
    return ["count(*)", f"sum(CASE WHEN {checks} THEN 1 ELSE 0 END)"]


def _classes_of(
    conn: sqlite3.Connection, row: Any, jobs: list[tuple[str, str, int]], expected: dict[str, str], where: str
) -> dict[tuple[str, str], Any]:
    """The class counts of the columns with an expected class: from their non-NULL counts where every row of
    the chunk conforms, else counted class by class (this chunk again)."""
    if row[-2] == (row[-1] or 0):  # sum() of no rows (an empty chunk) is NULL
        return {
            (name, "classes"): tuple(row[at] if i == SLOT[expected[name]] else 0 for i in range(4))
            for name, what, at in jobs
            if what == "count" and row[at]
        }
    names = list(expected)
    counted = conn.execute(f"SELECT {', '.join(_fact_sql(quote_ident(n), 'classes', '')[0] for n in names)} {where}")
    return {(name, "classes"): _unpack(value) for name, value in zip(names, counted.fetchone(), strict=True) if value}


def _unpack(value: int) -> tuple[int, int, int, int]:
    return value % FIELD, value // FIELD % FIELD, value // FIELD**2 % FIELD, value // FIELD**3


def _fact_sql(c: str, fact: str, declared: str) -> list[str]:
    if fact == "count":
        return [f"count({c})"]
    if fact == "classes":  # four counts packed in one sum: a chunk has fewer than FIELD rows
        return [
            f"sum(CASE typeof({c}) WHEN 'integer' THEN 1 WHEN 'real' THEN {FIELD} "
            f"WHEN 'text' THEN {FIELD**2} WHEN 'blob' THEN {FIELD**3} END)"
        ]
    if fact == "minmax":
        return [f"min({c})", f"max({c})"]
    if fact == "range":
        return _int_range(c)
    if fact == "text":
        return [f"CAST(group_concat(CASE typeof({c}) WHEN 'text' THEN CAST({c} AS BLOB) END, x'0a') AS BLOB)"]
    if fact == "blob":
        return [f"CAST(group_concat(CASE typeof({c}) WHEN 'blob' THEN {c} END, x'0a') AS BLOB)"]
    good = known_good(c, *candidate_kinds(declared.upper()), divisor=None)  # "unproven"
    return [f"sum(CASE WHEN {c} IS NULL THEN 0 ELSE {unproven(good)} END)"]


def _chunk_pass(
    conns: list[sqlite3.Connection],
    table: str,
    facts: list[tuple[str, str]],
    declared_as: dict[str, str],
    profiles: dict[str, Profile],
    ranges: list[tuple[int, int]],
    rowid: str,
    expected: dict[str, str],
) -> None:
    """The facts, one query per chunk of rowids, the chunks shared between the connections; the class counts of
    the columns of `expected` by _conforming()."""
    t = quote_ident(table)
    parts: list[str] = []
    jobs: list[tuple[str, str, int]] = []  # (column, fact, position in the row)
    for name, fact in facts:
        jobs.append((name, fact, len(parts)))
        parts += _fact_sql(quote_ident(name), fact, declared_as[name])
    if expected:
        parts += _conforming(expected)
    sql = f"SELECT {', '.join(parts)} FROM {t} WHERE {rowid} BETWEEN ? AND ?"
    found = on_connections(conns, [partial(_chunk_checks, sql, jobs, t, rowid, expected, r) for r in ranges])
    for per_chunk in found:
        for (name, what), value in per_chunk.items():
            _merge(profiles[name], what, value)


def _chunk_checks(
    sql: str,
    jobs: list[tuple[str, str, int]],
    t: str,
    rowid: str,
    expected: dict[str, str],
    bounds: tuple[int, int],
    conn: sqlite3.Connection,
) -> dict[tuple[str, str], Any]:
    """One chunk's checks; joined text is decoded here, and only a chunk that fails is read value by value."""
    row = conn.execute(sql, bounds).fetchone()
    where = f"FROM {t} WHERE {rowid} BETWEEN {bounds[0]} AND {bounds[1]}"
    out: dict[tuple[str, str], Any] = _classes_of(conn, row, jobs, expected, where) if expected else {}
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
                    f"SELECT CAST({c} AS BLOB), typeof({c}) {where} AND typeof({c}) = '{what}'",
                    p,
                )
                out[name, what] = (p.nul_text, p.bad_utf8, p.blob_not_utf8)
        elif what in ("minmax", "range"):
            out[name, what] = (row[at], row[at + 1])
        elif what == "classes" and value:
            out[name, what] = _unpack(value)
        elif value and what != "count":
            out[name, what] = value
    return out


def _merge(p: Profile, what: str, value: Any) -> None:
    if what in ("text", "blob"):
        p.nul_text += value[0]
        p.bad_utf8 += value[1]
        p.blob_not_utf8 += value[2]
    elif what in ("minmax", "range"):
        _widen(p, *value)
    elif what == "classes":
        p.n_int, p.n_real, p.n_text, p.n_blob = (
            a + b for a, b in zip((p.n_int, p.n_real, p.n_text, p.n_blob), value, strict=True)
        )
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
