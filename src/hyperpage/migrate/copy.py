"""The data copy: one table per task, PostgreSQL COPY in one transaction per table, tables in parallel processes.

A table is copied in a single transaction that also truncates it first and marks it done in the ledger: a
killed run leaves either a finished table or an untouched one, never half of one, so `--resume` only has to
redo the tables that are not marked done. Processes, not threads: the per-value conversion is Python and holds
the GIL (bench/bench_migrate.py measures one worker against two).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import psycopg

from hyperpage.db.sqlite_tuning import statistics_off
from hyperpage.migrate import ledger
from hyperpage.migrate.introspect import open_source
from hyperpage.migrate.plan import Endpoint, MigrationError, Reject, Table, quote_ident

BATCH = 5000
_progress: Any = None  # the queue a worker process reports (table, rows done since its last report) to


@dataclass
class TableResult:
    table: str
    rows: int
    rejected: int


_parent: int | None = None  # the migrating process, in a worker: no table is committed once it is gone
PR_SET_PDEATHSIG = 1


def _init_worker(queue: Any, parent: int) -> None:
    """Tie the worker's life to the parent's: killing only the parent (an OOM kill) must not leave copies going."""
    global _progress, _parent
    _progress, _parent = queue, parent
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere parent_alive() still guards commits
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # died before prctl took effect
        os._exit(1)
    statistics_off()  # a fresh process (spawn): nothing of SQLite in use yet


def parent_alive() -> bool:
    return _parent is None or os.getppid() == _parent


def report_progress(table: str, n: int) -> None:
    """`n` more rows of `table` are done: a delta, so that several jobs (parts, sides) of a table simply add up."""
    if _progress is not None:
        _progress.put((table, n))


def source_rows(
    source: Endpoint, table: Table, conn: Any = None, where: str = "", keyed: bool = True
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of (row key, *values), or of values alone, from either engine (server-side cursor on PostgreSQL)."""
    cols = ", ".join(c.select for c in table.columns)
    sql = f"SELECT {table.key + ', ' if keyed else ''}{cols} FROM {quote_ident(table.source)} {where}"
    if source.kind == "sqlite":
        own = conn is None
        conn = conn or open_source(source)
        try:
            cur = conn.execute(sql)
            while batch := cur.fetchmany(BATCH):
                yield batch
        finally:
            if own:
                conn.close()
        return
    with psycopg.connect(source.pg_dsn, autocommit=False) as pg, pg.cursor(name="hyperpage_migrate") as cur:
        cur.itersize = BATCH
        cur.execute(sql)
        while batch := cur.fetchmany(BATCH):
            yield batch


def fast_path(source: Endpoint, table: Table) -> bool:
    return source.kind == "sqlite" and not table.not_null_pk and all(c.as_is for c in table.columns)


def converted(
    table: Table, batch: list[tuple[Any, ...]], rejects: list[tuple[Any, str, list[Any]]], keep_key: bool = False
) -> Iterator[tuple[Any, ...]]:
    """Apply the plan's converters; a value that does not fit sends its whole row to `rejects`.

    Rows come out without their key, or as (key, *values) with `keep_key` (verification names rows by it).
    """
    first = 0 if keep_key else 1
    convs: list[tuple[int, Callable[[Any], Any]]] = [
        (i + 1, c.convert) for i, c in enumerate(table.columns) if c.convert is not None
    ]
    pk_idx = [i + 1 for i, c in enumerate(table.columns) if c.source in table.not_null_pk]
    for row in batch:
        if not convs and not pk_idx:
            yield row[first:]
            continue
        out = list(row)
        try:
            for i in pk_idx:
                if out[i] is None:
                    raise Reject(f"NULL in primary key column {table.columns[i - 1].source!r}")
            for i, conv in convs:
                if out[i] is not None:
                    out[i] = conv(out[i])
        except Reject as exc:
            rejects.append((row[0], f"{table.source}: {exc}", list(row[1:])))
            continue
        yield tuple(out[first:])


def copy_to_postgres(source: Endpoint, target: Endpoint, table: Table) -> TableResult:
    cols = ", ".join(quote_ident(c.target) for c in table.columns)
    rejects: list[tuple[Any, str, list[Any]]] = []
    done = 0
    with psycopg.connect(target.pg_dsn, autocommit=True) as pg:
        pg.execute("SET TIME ZONE 'UTC'")  # naive timestamps from SQLite are UTC
        pg.execute(f"UPDATE {ledger.SCHEMA}.tables SET status = 'copying' WHERE name = %s", (table.target,))
        pg.autocommit = False
        with pg.transaction():
            pg.execute(f"TRUNCATE {quote_ident(table.target)}")
            pg.execute(f"DELETE FROM {ledger.SCHEMA}.rejects WHERE tbl = %s", (table.target,))
            with pg.cursor() as cur, cur.copy(f"COPY {quote_ident(table.target)} ({cols}) FROM STDIN (FREEZE)") as cp:
                if fast_path(source, table):  # rows as SQLite returns them, formatted by psycopg in C
                    for batch in source_rows(source, table, keyed=False):
                        for row in batch:
                            cp.write_row(row)
                        done += len(batch)
                        report_progress(table.target, len(batch))
                else:
                    for batch in source_rows(source, table):
                        for out in converted(table, batch, rejects):
                            cp.write_row(out)
                        done += len(batch)
                        report_progress(table.target, len(batch))
            if not parent_alive():  # the transaction rolls back: the table stays as it was
                raise MigrationError("the migrating process is gone: not committing")
            with pg.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {ledger.SCHEMA}.rejects (tbl, rowkey, reason, data) VALUES (%s, %s, %s, %s)",
                    [(table.target, str(k), r, ledger.dumps_row(v)) for k, r, v in rejects],
                )
            pg.execute(
                f"UPDATE {ledger.SCHEMA}.tables SET status = 'done', rows = %s, rejected = %s, "
                "finished_at = now() WHERE name = %s",
                (done - len(rejects), len(rejects), table.target),
            )
    return TableResult(table.target, done - len(rejects), len(rejects))


def copy_to_sqlite(source: Endpoint, conn: sqlite3.Connection, table: Table) -> TableResult:
    """The way back: plain INSERTs in one transaction (the whole file is renamed into place at the end)."""
    marks = ", ".join("?" for _ in table.columns)
    cols = ", ".join(quote_ident(c.target) for c in table.columns)
    rejects: list[tuple[Any, str, list[Any]]] = []
    done = 0
    for batch in source_rows(source, table):
        conn.executemany(
            f"INSERT INTO {quote_ident(table.target)} ({cols}) VALUES ({marks})", converted(table, batch, rejects)
        )
        done += len(batch)
        report_progress(table.target, len(batch))
    if rejects:
        raise MigrationError(f"{table.target}: {len(rejects)} rows do not fit SQLite: {rejects[0][1]}")
    return TableResult(table.target, done, 0)


def run_parallel(
    fn: Callable[..., Any], jobs: list[tuple[Any, ...]], workers: int, on_progress: Callable[[str, int], None]
) -> list[Any]:
    """Run fn(*job) for each job in `workers` processes, forwarding progress reports as they come."""
    if not jobs:  # e.g. verification after a copy that already summed both sides: no processes to start
        return []
    if workers <= 1:
        global _progress
        results = []
        for job in jobs:
            _progress = _Direct(on_progress)
            results.append(fn(*job))
        _progress = None
        return results
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding connections and threads
    queue = ctx.Queue()  # passed at spawn: no Manager process (one process fewer to outlive a killed parent)
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(queue, os.getpid())
        ) as pool:
            futures = [pool.submit(fn, *job) for job in jobs]
            pending = set(futures)
            while pending:
                while not queue.empty():
                    on_progress(*queue.get())
                finished = {f for f in pending if f.done()}
                pending -= finished
                if pending:
                    with contextlib.suppress(Exception):  # queue.Empty after the timeout
                        on_progress(*queue.get(timeout=0.2))
            while not queue.empty():
                on_progress(*queue.get())
            return [f.result() for f in as_completed(futures)]
    finally:
        queue.close()


class _Direct:
    def __init__(self, cb: Callable[[str, int], None]) -> None:
        self.cb = cb

    def put(self, item: tuple[str, int]) -> None:
        self.cb(*item)
