"""Verification: per table row counts and an order-independent checksum over canonical rows, both sides.

Each row becomes one canonical text (canon.py: exact doubles, timestamps as PostgreSQL prints them in UTC, JSON
as jsonb prints it, exact decimals), hashed with MD5 (which PostgreSQL has built in); the hashes are summed modulo
2**128, so the sum does not depend on row order and counts duplicates. Neither side goes through the copy's
converters: SQLite is read raw with rawread.py's own rules (for the sums, raw values rendered a column of a
batch at a time by C calls, rows kept as UTF-8 bytes and hashed a batch at a time; to name rows, most fields
rendered by SQLite in SQL), PostgreSQL renders, hashes and sums its canonical rows in the server (_pg_sums).
Rows the copy rejected (its ledger names them, with reasons) are read but kept out of the source sums and
counted apart.

The sums are also kept per bucket (the hash's top bits). When a table does not match, both sides are read again
in full (every row rendered and hashed again), keeping only the rows in differing buckets (whole buckets, up to
RECHECK_ROWS per side), to count the rows that differ and name example rows and columns.
Then foreign-key integrity and sequences past their maximum ids.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from operator import methodcaller
from typing import Any

import psycopg

from hyperpage.migrate import canon, ledger, rawread
from hyperpage.migrate.copy import TableResult, copy_to_postgres, report_progress
from hyperpage.migrate.introspect import ROWID_ALIASES, open_source
from hyperpage.migrate.plan import Endpoint, MigrationError, Table, ends_sql, quote_ident, scalar

MOD = 2**128
BUCKET_BITS = 12
SHIFT = 128 - BUCKET_BITS
FETCH = 20_000
PART_ROWS = 100_000  # source rows per job: a big table's source side is shared by several processes
RECHECK_ROWS = 50_000  # rows read per side, at most, to explain a mismatch
EXAMPLES = 5
MIN_SERVER = 140000  # PostgreSQL 14: extract(epoch) of a timestamp is exact (numeric), microseconds included
PAIRING = 5_000  # target rows searched for the closest partner of an example source row


@dataclass
class TableCheck:
    table: str
    source_rows: int
    rejected: int
    target_rows: int
    source_checksum: str
    target_checksum: str
    missing_rows: int = 0  # source rows without an identical target row
    extra_rows: int = 0  # target rows without an identical source row
    counts_exact: bool = True  # False when only part of the differing rows was examined
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.source_rows - self.rejected == self.target_rows and self.source_checksum == self.target_checksum

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source_rows": self.source_rows,
            "rejected": self.rejected,
            "target_rows": self.target_rows,
            "source_checksum": self.source_checksum,
            "target_checksum": self.target_checksum,
            "ok": self.ok,
            "missing_rows": self.missing_rows,
            "extra_rows": self.extra_rows,
            "counts_exact": self.counts_exact,
            "examples": self.examples,
        }


@dataclass
class SideSums:
    table: str
    side: str
    rows: int
    rejected: int
    sums: list[int]  # per bucket, modulo 2**128
    counts: list[int]  # rows per bucket
    bucketed: bool = True  # False: only the total, in bucket 0 (a PostgreSQL side that matched needs no more)

    @property
    def checksum(self) -> int:
        return sum(self.sums) % MOD


def server_version(target: Endpoint) -> int:
    """The target server's server_version_num (140005 for 14.5)."""
    with psycopg.connect(target.pg_dsn) as pg:
        return pg.info.server_version


def require_verifiable(target: Endpoint) -> None:
    """Refuse a target verification cannot read, before anything is copied or read: not after a whole copy."""
    if target.kind != "postgresql":
        return
    found = server_version(target)
    if found < MIN_SERVER:
        raise MigrationError(
            f"the target runs PostgreSQL {found // 10000} (server_version_num {found}); "
            "migration and verification need PostgreSQL 14 or later "
            f"(server_version_num >= {MIN_SERVER}: exact timestamps in extract(epoch))"
        )


def _pg_select(table: Table, types: dict[str, str], side: str, keyed: bool) -> tuple[list[str], list[Any]]:
    """SELECT list of canonical text: runs of server-rendered fields, other columns as values rendered in Python."""
    exprs: list[str] = [table.key] if keyed else []
    render: list[Any] = [None] if keyed else []  # per selected column: None (canonical) or a renderer
    run: list[str] = []
    for c in table.columns:
        name = c.source if side == "source" else c.target
        sql = canon.pg_field(c.kind, name, types.get(name))
        if sql is not None:
            run.append(sql)
            continue
        if run:
            exprs.append(canon.pg_row(run))
            render.append(None)
            run = []
        exprs.append(quote_ident(name))
        render.append(canon.RENDER[c.kind])
    if run:
        exprs.append(canon.pg_row(run))
        render.append(None)
    return exprs, render


def _pg_types(pg: psycopg.Connection, relation: str) -> dict[str, str]:
    return dict(
        pg.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (quote_ident(relation),),
        ).fetchall()
    )


def _pg_connect(endpoint: Endpoint) -> psycopg.Connection:
    return psycopg.connect(endpoint.pg_dsn, options="-c TimeZone=UTC -c DateStyle=ISO")


def _pg_rows(endpoint: Endpoint, table: Table, side: str) -> Iterator[list[tuple[Any, str]]]:
    """Canonical rows rendered by PostgreSQL itself (a source side also selects its row key, to name rows)."""
    relation = table.source if side == "source" else table.target
    with _pg_connect(endpoint) as pg:
        keyed = side == "source"
        exprs, render = _pg_select(table, _pg_types(pg, relation), side, keyed)
        with pg.cursor(name="hyperpage_verify") as cur:
            cur.execute(f"SELECT {', '.join(exprs)} FROM {quote_ident(relation)}")
            if render[keyed:] == [None]:  # the server sends each row's whole canonical text
                while batch := cur.fetchmany(FETCH):
                    yield [(row[0] if keyed else None, row[-1]) for row in batch]
                return
            while batch := cur.fetchmany(FETCH):
                yield [
                    (
                        row[0] if keyed else None,
                        "|".join(
                            [
                                v if r is None else ("N" if v is None else r(v))
                                for r, v in zip(render[keyed:], row[keyed:], strict=True)
                            ]
                        ),
                    )
                    for row in batch
                ]


# md5 of a canonical row as two signed 64-bit halves (PostgreSQL has no unsigned integers), their sums and the
# number of negative low halves: from these, sum_of_digests() gives the sum of the 128-bit digests. Per bucket
# (the digest's first BUCKET_BITS bits) only when a table does not match: grouping costs time. The hex digest is
# read as bits once and its halves cut from those (10% less server CPU than reading each half from the text).
# OFFSET 0 keeps the subquery from being flattened: flattened, every use of h builds and hashes the row again
# (three or four times per row, 2-4x the time of the whole query).
_PG_SUMS = (
    "SELECT {bucket}, count(*), sum(substring(h FROM 1 FOR 64)::bigint), sum(substring(h FROM 65)::bigint), "
    "count(*) FILTER (WHERE get_bit(h, 64) = 1) "
    "FROM (SELECT ('x' || md5({row}))::bit(128) AS h FROM {relation} {where} OFFSET 0) d {group}"
)


def sum_of_digests(high: int, low: int, negative_lows: int) -> int:
    """The sum modulo 2**128 of 128-bit digests from the sums of their signed halves (see _PG_SUMS)."""
    return ((high << 64) + low + (negative_lows << 64)) % MOD


def _pg_sums(endpoint: Endpoint, table: Table, side: str, bucketed: bool) -> SideSums | None:
    """Both sums of one side computed in PostgreSQL (no row leaves the server), or None when a column of a type
    the canonical templates do not cover needs Python (then the rows are streamed). Without `bucketed`, only
    the table's total (in bucket 0): enough to see that it matches."""
    relation = table.source if side == "source" else table.target
    with _pg_connect(endpoint) as pg:
        exprs, render = _pg_select(table, _pg_types(pg, relation), side, keyed=False)
        if render != [None]:
            return None
        bucket, group = (f"substring(h FROM 1 FOR {BUCKET_BITS})::int", "GROUP BY 1") if bucketed else ("0", "")
        halves = _block_halves(pg, relation) if table.rows >= SPLIT_ROWS else [""]
        sqls = [
            _PG_SUMS.format(bucket=bucket, row=exprs[0], relation=quote_ident(relation), where=where, group=group)
            for where in halves
        ]
        if len(sqls) == 1:  # on this connection: a table's sums open no second one
            found = pg.execute(sqls[0]).fetchall()
        else:
            with ThreadPoolExecutor(len(sqls)) as pool:  # each half on its own connection: one server process each
                found = [row for rows in pool.map(partial(_fetch_all, endpoint), sqls) for row in rows]
    sums, counts = [0] * (1 << BUCKET_BITS), [0] * (1 << BUCKET_BITS)
    for b, n, high, low, negative in found:
        counts[b] += n
        sums[b] = (sums[b] + sum_of_digests(int(high or 0), int(low or 0), negative)) % MOD
    rows = sum(counts)
    report_progress(table.target, rows)
    return SideSums(table.target, side, rows, 0, sums, counts, bucketed)


# A table this big is summed by two server processes at once, each over half of its pages: the sums follow the
# table's copy in the same job, and the biggest table's copy and sums are the critical path of the copy phase,
# often with the other worker done (generic 1M-row file: 12.2 -> 8-10 s). Tables of a quarter of that (the
# Hyperpage database's four of 250,000 rows) keep both workers busy with copies: split, they only contended
# (copy phase 16-19 -> 21 s), so they are summed by one process
SPLIT_ROWS = 500_000


def _block_halves(pg: psycopg.Connection, relation: str) -> list[str]:
    """WHERE clauses splitting a table's rows in two by their pages (a TID range scan, PostgreSQL 14)."""
    pages = scalar(
        pg, "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", (quote_ident(relation),)
    )
    if not pages or pages < 2:
        return [""]
    middle = int(pages) // 2
    return [f"WHERE ctid < '({middle},0)'", f"WHERE ctid >= '({middle},0)'"]


def _fetch_all(endpoint: Endpoint, sql: str) -> list[tuple[Any, ...]]:
    with _pg_connect(endpoint) as pg:
        return pg.execute(sql).fetchall()


def source_parts(source: Endpoint, table: Table) -> list[tuple[int, int] | None]:
    """Rowid ranges of a big SQLite source table, so that several processes share its (slower) source side."""
    if source.kind != "sqlite" or table.key not in ROWID_ALIASES or table.rows <= PART_ROWS:
        return [None]
    conn = open_source(source)
    try:
        lo, hi = conn.execute(ends_sql(quote_ident(table.source), table.key)).fetchone()  # not a whole scan
    finally:
        conn.close()
    if lo is None:
        return [None]
    n = -(-table.rows // PART_ROWS)
    step = -(-(hi - lo + 1) // n)
    return [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]


def rejected_keys(target: Endpoint, table: Table) -> frozenset[str]:
    """Row keys the copy rejected (recorded in the target's ledger, with reasons): the source side skips them."""
    if target.kind != "postgresql":
        return frozenset()
    with psycopg.connect(target.pg_dsn) as pg:
        if not ledger.exists(pg):
            return frozenset()
        rows = pg.execute(f"SELECT rowkey FROM {ledger.SCHEMA}.rejects WHERE tbl = %s", (table.target,)).fetchall()
    return frozenset(r[0] for r in rows)


def _side_rows(
    side: str, endpoint: Endpoint, table: Table, skip: frozenset[str] = frozenset(), part: tuple[int, int] | None = None
) -> Iterator[tuple[int, list[tuple[Any, str]]]]:
    """Batches of (rows read, [(row key or None, canonical text)]) for one side of one table (or part).

    SQLite is read raw by rawread.py, PostgreSQL renders in the server: neither uses the copy's converters.
    Rows of the source whose key is in `skip` were rejected by the copy: read, but not part of the sums.
    """
    if endpoint.kind == "postgresql":
        for batch in _pg_rows(endpoint, table, side):
            yield len(batch), batch
        return
    key = table.key if side == "source" else "rowid"
    where = "" if part is None else f"WHERE {key} BETWEEN {int(part[0])} AND {int(part[1])}"
    for batch in rawread.rows(endpoint, table, side, key, where):
        yield len(batch), ([r for r in batch if str(r[0]) not in skip] if skip else batch)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.md5(text.encode("utf-8", "surrogatepass")).digest())


_md5 = hashlib.md5
_digest_of = methodcaller("digest")


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while batches are summed: their tuples, lists and bytes are freed by reference
    counting (no cycles), while each collection would walk the live tuples of a batch again (a fifth of
    the source side's CPU, most of it in transposing a batch into columns)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fold(table: Table, side: str, batches: Iterator[tuple[int, list[bytes]]]) -> SideSums:
    """Row count and per-bucket sums of (rows read, canonical rows kept as UTF-8) batches: MD5 by C calls."""
    sums, counts = [0] * (1 << BUCKET_BITS), [0] * (1 << BUCKET_BITS)
    n = kept = 0
    with _collector_paused():
        for read, rows in batches:
            for h in map(int.from_bytes, map(_digest_of, map(_md5, rows))):
                b = h >> SHIFT
                sums[b] += h
                counts[b] += 1
            n += read
            kept += len(rows)
            report_progress(table.target, read)
    return SideSums(table.target, side, n, n - kept, [s % MOD for s in sums], counts)


def _sqlite_batches(
    side: str, endpoint: Endpoint, table: Table, part: tuple[int, int] | None, skip: frozenset[str]
) -> Iterator[tuple[int, list[bytes]]]:
    """A SQLite side's rows as bytes (rawread.row_bytes), less the rejected ones: never a str per row."""
    key = table.key if side == "source" else "rowid"
    where = "" if part is None else f"WHERE {key} BETWEEN {int(part[0])} AND {int(part[1])}"
    for keys, rows in rawread.row_bytes(endpoint, table, side, key, where):
        kept = [r for k, r in zip(keys, rows, strict=True) if str(k) not in skip] if skip else rows
        yield len(rows), kept


def fold_side(
    side: str,
    endpoint: Endpoint,
    table: Table,
    part: tuple[int, int] | None = None,
    skip: frozenset[str] = frozenset(),
    bucketed: bool = False,
) -> SideSums:
    """Row count and per-bucket sums of one side (or a rowid range of the source): one run_parallel job."""
    if endpoint.kind == "sqlite":
        return _fold(table, side, _sqlite_batches(side, endpoint, table, part, skip))
    done = _pg_sums(endpoint, table, side, bucketed)
    if done is not None:
        return done
    return _fold(
        table,
        side,
        (
            (read, [text.encode("utf-8", "surrogatepass") for _, text in batch])
            for read, batch in _side_rows(side, endpoint, table, skip, part)
        ),
    )


def copy_phase_job(job: str, *args: Any) -> SideSums | tuple[TableResult, SideSums]:
    """One job of the copy phase (run._to_postgres): a part of a source side's sums, or a table's copy.

    After its copy commits, the job has PostgreSQL sum the table's target side (its pages still in shared
    buffers, in the process that is already running): no second pass over the target once every copy is done.
    Defined here, not in run.py, so that a worker process does not import Alembic and the schema (1 s of CPU).
    """
    if job == "sum":
        return fold_side(*args)
    source, target, table = args
    return copy_to_postgres(source, target, table), fold_side("target", target, table)


def without_rejected(endpoint: Endpoint, table: Table, sums: SideSums, skip: frozenset[str]) -> SideSums:
    """Source sums read while the copy ran, less the rows the copy then rejected (read again by their keys)."""
    if not skip:
        return sums
    keys = [int(k) if table.key in ROWID_ALIASES else k for k in sorted(skip)]
    out = SideSums(sums.table, sums.side, sums.rows, sums.rejected, list(sums.sums), list(sums.counts))
    for start in range(0, len(keys), FETCH):
        listed = ", ".join(rawread.literal(k) for k in keys[start : start + FETCH])
        for batch in rawread.rows(endpoint, table, "source", table.key, f"WHERE {table.key} IN ({listed})"):
            for key, text in batch:
                if str(key) in skip:
                    h = _digest(text)
                    out.sums[h >> SHIFT] = (out.sums[h >> SHIFT] - h) % MOD
                    out.counts[h >> SHIFT] -= 1
                    out.rejected += 1
    return out


def merge(results: list[SideSums]) -> dict[tuple[str, str], SideSums]:
    """The parts of each (table, side) added up."""
    sides: dict[tuple[str, str], SideSums] = {}
    for r in results:
        have = sides.setdefault(
            (r.table, r.side), SideSums(r.table, r.side, 0, 0, [0] * len(r.sums), [0] * len(r.counts), r.bucketed)
        )
        have.rows += r.rows
        have.rejected += r.rejected
        have.sums = [(a + b) % MOD for a, b in zip(have.sums, r.sums, strict=True)]
        have.counts = [a + b for a, b in zip(have.counts, r.counts, strict=True)]
    return sides


def combine(results: list[SideSums]) -> tuple[list[TableCheck], dict[str, list[int]]]:
    """One check per table, and for each mismatch the buckets to read again (as many as RECHECK_ROWS allows)."""
    sides = merge(results)
    checks, recheck = [], {}
    for name in sorted({r.table for r in results}):
        src, tgt = sides[name, "source"], sides[name, "target"]
        check = TableCheck(name, src.rows, src.rejected, tgt.rows, f"{src.checksum:032x}", f"{tgt.checksum:032x}")
        checks.append(check)
        if check.ok:
            continue
        differing = [b for b, (a, z) in enumerate(zip(src.sums, tgt.sums, strict=True)) if a != z]
        chosen: list[int] = []
        budget = RECHECK_ROWS
        for b in differing:
            size = max(src.counts[b], tgt.counts[b])
            if chosen and size > budget:
                break
            chosen.append(b)
            budget -= size
        check.counts_exact = len(chosen) == len(differing)
        recheck[name] = chosen
    return checks, recheck


def rows_in_buckets(
    side: str, endpoint: Endpoint, table: Table, buckets: list[int], skip: frozenset[str] = frozenset()
) -> tuple[str, str, list[tuple[int, Any, str]]]:
    """(table, side, [(hash, key, canonical text)]) of the rows that fall into `buckets`."""
    wanted = frozenset(buckets)
    kept = []
    for _, batch in _side_rows(side, endpoint, table, skip):
        for key, text in batch:
            h = _digest(text)
            if h >> SHIFT in wanted:
                kept.append((h, key, text))
    return table.target, side, kept


def unmatched(
    source: list[tuple[int, Any, str]], target: list[tuple[int, Any, str]]
) -> tuple[list[tuple[Any, str]], list[str]]:
    """Source rows without an identical target row (key, text), and target rows without a source row (text)."""
    balance = Counter(h for h, _, _ in source)
    balance.subtract(h for h, _, _ in target)
    surplus = {h: n for h, n in balance.items() if n > 0}  # hash -> source rows the target lacks
    lack = {h: -n for h, n in balance.items() if n < 0}  # hash -> target rows the source lacks
    missing, extra = [], []
    for h, key, text in source:
        if surplus.get(h, 0) > 0:
            surplus[h] -= 1
            missing.append((key, text))
    for h, _, text in target:
        if lack.get(h, 0) > 0:
            lack[h] -= 1
            extra.append(text)
    return missing, extra


def example_firsts(missing: list[tuple[Any, str]]) -> list[str]:
    """First fields (usually the primary key) of the example source rows, to look up their changed partners."""
    return [canon.first_field(text) for _, text in missing[:EXAMPLES]]


def partners(target: Endpoint, table: Table, firsts: list[str]) -> list[str]:
    """Target rows whose first field is one of `firsts`: a changed row hashes into another bucket.

    The scan (in the main process) stops at the end of the batch in which the last wanted first field turned up:
    a first field is usually the primary key, so the rest of the table holds no other partner.
    """
    wanted, kept, found = frozenset(firsts), [], set()
    for _, batch in _side_rows("target", target, table):
        for _, text in batch:
            first = canon.first_field(text)
            if first in wanted:
                kept.append(text)
                found.add(first)
        if len(found) == len(wanted) or len(kept) >= PAIRING:
            break
    return kept[:PAIRING]


def explain(check: TableCheck, table: Table, missing: list[tuple[Any, str]], extra: list[str], near: list[str]) -> None:
    """Count the rows without an identical partner and describe a few, naming the columns that differ.

    `missing` and `extra` come from unmatched(). An example source row is paired with the target row sharing
    most of its fields (at least half), among the unmatched target rows and `near` (target rows with the same
    first field).
    """
    check.missing_rows, check.extra_rows = len(missing), len(extra)
    names = [c.target for c in table.columns]
    spare = [canon.split_fields(text) for text in extra[:PAIRING]]
    others = set(extra)
    nearby = [canon.split_fields(text) for text in near if text not in others]

    def same(a: list[str], b: list[str]) -> int:
        return sum(x == y for x, y in zip(a, b, strict=False)) if len(a) == len(b) else -1

    for key, text in missing[:EXAMPLES]:
        fields = canon.split_fields(text)
        best = max(spare + nearby, key=lambda other: same(fields, other), default=None)
        if best is None or 2 * same(fields, best) < len(fields):
            check.examples.append(f"source row {key}: no such row in the target")
            continue
        (spare if best in spare else nearby).remove(best)
        diff = [
            f"{names[i]} {canon.readable(a)} -> {canon.readable(b)}"
            for i, (a, b) in enumerate(zip(fields, best, strict=True))
            if a != b
        ]
        check.examples.append(f"source row {key}: " + "; ".join(diff))
    for fields in spare[: max(0, EXAMPLES - len(check.examples))]:
        shown = ", ".join(f"{n}={canon.readable(f)}" for n, f in list(zip(names, fields, strict=False))[:4])
        check.examples.append(f"target row ({shown}, ...): not in the source")


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
    with psycopg.connect(target.pg_dsn) as pg:
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
            orphans = scalar(
                pg,
                f"SELECT count(*) FROM {child} c WHERE {notnull} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {on})",
            )
            if orphans and validated:
                problems.append(f"{child}: {orphans} rows violate {name}")
    return problems


def sequence_problems(target: Endpoint) -> list[str]:
    """Every identity/serial sequence must hand out a value above the column's maximum."""
    if target.kind == "sqlite":
        return []
    problems = []
    with psycopg.connect(target.pg_dsn) as pg:
        cols = pg.execute("""
            SELECT format('%I', table_name), column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%')""").fetchall()
        for table, column in cols:
            seq = scalar(pg, "SELECT pg_get_serial_sequence(%s, %s)", (table, column))
            if seq is None:
                continue
            state = pg.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
            if state is None:
                continue
            last, called = state
            nxt = last + 1 if called else last
            top = scalar(pg, f"SELECT max({quote_ident(column)}) FROM {table}")
            if top is not None and nxt <= top:
                problems.append(f"{table}.{column}: next value {nxt} is not above the maximum id {top}")
    return problems
