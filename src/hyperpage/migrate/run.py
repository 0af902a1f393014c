"""The migration, start to end: plan, prepare the target, copy, post-load DDL, verification, report."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from hyperpage.migrate import ddl, ledger, verify
from hyperpage.migrate.copy import copy_to_sqlite, run_parallel
from hyperpage.migrate.hyperpage_mode import (
    ALEMBIC_TABLE,
    alembic_revision,
    build_hyperpage_plan,
    count_rows,
    is_hyperpage_sqlite,
)
from hyperpage.migrate.introspect import build_generic_plan, checked_while, open_source
from hyperpage.migrate.plan import Endpoint, MigrationError, Plan, quote_ident, scalar
from hyperpage.migrate.report import Report, progress_bars
from hyperpage.migrate.rollback import SQLITE_MARKER, rollback


@dataclass
class Options:
    mode: str = "auto"  # auto | hyperpage | generic
    resume: bool = False
    replace: bool = False
    workers: int = 2
    rejects_path: Path | None = None
    report_path: Path | None = None
    progress: bool = True


REJECTS_FILE = "hyperpage-migration-rejects.jsonl"


def default_rejects_path(report: Path | None) -> Path:
    """Next to the report (the run's output directory), else the current directory."""
    return (report.parent if report is not None else Path()) / REJECTS_FILE


def build_plan(source: Endpoint, mode: str = "auto") -> Plan:
    if source.kind == "postgresql":
        with psycopg.connect(source.pg_dsn) as pg:
            has_versions = scalar(pg, "SELECT to_regclass('public.alembic_version')") is not None
            row = pg.execute("SELECT version_num FROM alembic_version").fetchone() if has_versions else None
            if row is None or mode == "generic":
                raise MigrationError("PostgreSQL -> SQLite is for Hyperpage databases only (no alembic_version)")
            _require_head(row[0])
            plan = build_hyperpage_plan(source)
            count_rows(plan, pg)
        return plan
    with checked_while(source):
        conn = open_source(source)
        try:
            rev = is_hyperpage_sqlite(conn)
            chosen = mode if mode != "auto" else ("hyperpage" if rev else "generic")
            if chosen == "hyperpage":
                if rev is None:
                    found = alembic_revision(conn)
                    raise MigrationError(
                        "--mode hyperpage: the source is not a Hyperpage database ("
                        + (f"its Alembic revision {found} is not one of ours" if found else "no alembic_version table")
                        + ")"
                    )
                _require_head(rev)
                plan = build_hyperpage_plan(source)
                count_rows(plan, conn)
                return plan
        finally:
            conn.close()
        return build_generic_plan(source)


def _require_head(rev: str) -> None:
    from hyperpage.db import schema  # Alembic: loaded by Hyperpage-mode runs only

    if rev != schema.head_revision():
        raise MigrationError(
            f"the source schema is at revision {rev}, this version ships {schema.head_revision()}: "
            "upgrade a copy of the source with `hyperpage db upgrade` first"
        )


def migrate(source: Endpoint, target: Endpoint, plan: Plan, opts: Options) -> Report:
    started = time.monotonic()
    verify.require_verifiable(target)
    streamed: list[verify.SideSums] = []
    if target.kind == "sqlite":
        copied = _to_sqlite(source, target, plan, opts)
        rejected: dict[str, int] = {}
        warnings: list[str] = []
    else:
        copied, rejected, warnings, streamed = _to_postgres(source, target, plan, opts)
    copy_seconds = time.monotonic() - started
    report = _check(source, target, plan, opts, streamed)
    report.copy_seconds = copy_seconds
    report.seconds = time.monotonic() - started
    report.copied_rows = copied
    report.warnings = warnings + report.warnings
    for t in report.tables:  # the copy and an independent re-read must agree on what was rejected
        if rejected.get(t.table, t.rejected) != t.rejected:
            report.fk_problems.append(f"{t.table}: copy rejected {rejected[t.table]} rows, verification {t.rejected}")
    return report


def check(source: Endpoint, target: Endpoint, plan: Plan, opts: Options) -> Report:
    """What `hyperpage db verify` runs: per-table counts and checksums, foreign keys, sequences."""
    verify.require_verifiable(target)
    return _check(source, target, plan, opts)


def _check(
    source: Endpoint, target: Endpoint, plan: Plan, opts: Options, streamed: list[verify.SideSums] | None = None
) -> Report:
    """Both sides' sums and their comparison; `streamed`: source sums already read while the copy ran."""
    report = Report(source=source.display, target=target.display, mode=plan.mode)
    biggest_first = sorted(plan.tables, key=lambda t: -t.rows)
    tables = {t.target: t for t in plan.tables}
    # a table's target side first: it is one job, while the source side may be split into parts that fill gaps
    skips = {t.target: verify.rejected_keys(target, t) for t in plan.tables}
    ready = [
        verify.without_rejected(source, tables[name], sums, skips[name]) if side == "source" else sums
        for (name, side), sums in verify.merge(streamed or []).items()
    ]
    done = {(r.table, r.side) for r in ready}
    jobs = [
        (side, end, t, part, skips[t.target] if side == "source" else frozenset())
        for t in biggest_first
        for side, end, parts in (("target", target, [None]), ("source", source, verify.source_parts(source, t)))
        if (t.target, side) not in done
        for part in parts
    ]
    # verification reads every row twice (source and target), less the sides already summed during the copy
    totals = {
        t.target: sum(t.rows for side in ("source", "target") if (t.target, side) not in done) for t in plan.tables
    }
    sums = _with_progress(verify.fold_side, jobs, totals, opts, "verify") + ready
    report.tables, recheck = verify.combine(sums)
    coarse = [s for s in sums if s.table in recheck and not s.bucketed]
    if coarse:  # a mismatch where PostgreSQL summed the whole table at once: its buckets, to find the rows
        ends = {"source": source, "target": target}
        again: list[tuple[Any, ...]] = [
            (s.side, ends[s.side], tables[s.table], None, frozenset(), True) for s in coarse
        ]
        fine = run_parallel(verify.fold_side, again, opts.workers, lambda *_: None)
        report.tables, recheck = verify.combine([s for s in sums if s not in coarse] + fine)
    if recheck:  # a mismatch: read its differing buckets again to count and show the rows that differ
        recheck_jobs = [
            (side, end, tables[name], buckets, skips[name] if side == "source" else frozenset())
            for name, buckets in recheck.items()
            for side, end in (("source", source), ("target", target))
        ]
        found = {
            (name, side): rows
            for name, side, rows in run_parallel(verify.rows_in_buckets, recheck_jobs, opts.workers, lambda *_: None)
        }
        for t in report.tables:
            if t.table in recheck:
                missing, extra = verify.unmatched(found[t.table, "source"], found[t.table, "target"])
                firsts = verify.example_firsts(missing)
                near = verify.partners(target, tables[t.table], firsts) if firsts else []
                verify.explain(t, tables[t.table], missing, extra, near)
    report.fk_problems = verify.fk_problems(target)
    report.sequence_problems = verify.sequence_problems(target)
    report.rejects = sum(t.rejected for t in report.tables)
    return report


def _with_progress(
    fn: Callable[..., Any], jobs: list[tuple[Any, ...]], totals: dict[str, int], opts: Options, verb: str
) -> list[Any]:
    """Run the jobs with a bar per table of `totals` (rows to do); jobs report rows done under the table's name."""
    if not opts.progress:
        return run_parallel(fn, jobs, opts.workers, lambda *_: None)
    with progress_bars() as bars:
        totals = {name: total or 1 for name, total in totals.items()}  # an empty table's bar fills too
        tasks = {name: bars.add_task(f"{verb} {name}", total=total) for name, total in totals.items()}
        results = run_parallel(fn, jobs, opts.workers, lambda name, n: bars.advance(tasks[name], n))
        for name, task in tasks.items():
            bars.update(task, completed=totals[name])
        return results


def _to_postgres(
    source: Endpoint, target: Endpoint, plan: Plan, opts: Options
) -> tuple[int, dict[str, int], list[str], list[verify.SideSums]]:
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        has_ledger = ledger.exists(conn)
        if has_ledger and opts.replace:
            rollback(target)
            has_ledger = False
        if has_ledger:
            if not opts.resume:
                raise MigrationError(
                    "the target holds an earlier migration: add --resume to continue it, "
                    "--replace to start over, or run --rollback"
                )
            mode, src, status = ledger.run_info(conn)
            if (mode, src) != (plan.mode, plan.source):
                raise MigrationError(f"the earlier migration copied {src} ({mode} mode), not {plan.source}")
            if status == "preparing":  # killed before the schema was complete: start over cleanly
                rollback(target)
                has_ledger = False
        if not has_ledger:
            ledger.assert_empty(conn)
            _prepare(conn, target, plan)
        states = ledger.table_states(conn)
        todo = [t for t in plan.tables if states.get(t.target) != "done"]
        # while a table is copied, other workers read its source side for verification (rawread: independent of
        # the copy's converters); the rows the copy rejects are taken out of those sums afterwards
        streaming = source.kind == "sqlite"
        jobs = [
            job
            for t in todo
            for job in [("copy", source, target, t)]
            + ([("sum", "source", source, t, part) for part in verify.source_parts(source, t)] if streaming else [])
        ]
        done = _with_progress(
            verify.copy_phase_job, jobs, {t.target: (3 if streaming else 2) * t.rows for t in todo}, opts, "copy"
        )
        results = [r[0] for r in done if isinstance(r, tuple)]
        streamed = [r[1] for r in done if isinstance(r, tuple)] + [r for r in done if isinstance(r, verify.SideSums)]
        _post_load(conn, target, opts.workers)
        ledger.set_status(conn, "done")
        rejected = ledger.rejected_counts(conn)
        rows = ledger.rejects(conn)
        if rows:
            path = opts.rejects_path or default_rejects_path(opts.report_path)
            with path.open("w") as fh:
                for r in rows:
                    fh.write(json.dumps(r) + "\n")
            opts.rejects_path = path
        copied = sum(r.rows for r in results)  # this run's rows: a resumed run does not count the earlier one's
        return copied, rejected, ledger.warnings(conn) + ledger.failed_optional_steps(conn), streamed


# index builds sort in memory up to this much per connection (PostgreSQL's default, 64MB, spills 1M-row sorts)
MAINTENANCE_WORK_MEM = "256MB"


def _post_load(conn: psycopg.Connection, target: Endpoint, workers: int) -> None:
    """The ledger's pending steps: keys, indexes, checks, defaults and sequence resets, then foreign keys.

    Index builds are most of this phase (1.6 of 1.9 s on a 300k-row Hyperpage database) and independent of one
    another, so a run of steps without a foreign key is spread over `workers` connections. Each such statement
    locks one table: at worst one waits for another, no deadlock. A foreign key locks two tables (a cycle of
    them could deadlock) and is checked in milliseconds with the keys in place, so foreign keys run one by one,
    each after every step before it (the keys they reference). Adding them NOT VALID and validating them in
    parallel could save at most their checks' time, 0.2 s of the 1.9 s, for a resume path twice as complex.
    """
    batches: list[list[tuple[int, str, bool]]] = []
    for step in ledger.pending_steps(conn):
        if " FOREIGN KEY " in step[1] or not batches or " FOREIGN KEY " in batches[-1][0][1]:
            batches.append([])
        batches[-1].append(step)
    extra = max(0, min(workers, max((len(b) for b in batches), default=0)) - 1)
    conns = [conn] + [psycopg.connect(target.pg_dsn, autocommit=True) for _ in range(extra)]
    try:
        for c in conns:
            c.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        for batch in batches:
            todo: queue.SimpleQueue[tuple[int, str, bool]] = queue.SimpleQueue()
            for step in batch:
                todo.put(step)
            used = conns[: len(batch)]
            with ThreadPoolExecutor(max_workers=len(used)) as pool:
                failures = [f for f in pool.map(partial(_run_steps, todo), used) if f]
            if failures:
                raise MigrationError(failures[0])
    finally:
        for c in conns[1:]:
            c.close()
        conn.execute("RESET maintenance_work_mem")


def _run_steps(todo: queue.SimpleQueue[tuple[int, str, bool]], conn: psycopg.Connection) -> str | None:
    """Steps from the queue, each in its own transaction with its ledger mark, until it is empty or one fails."""
    while True:
        try:
            seq, sql, optional = todo.get_nowait()
        except queue.Empty:
            return None
        try:
            with conn.transaction():
                conn.execute(sql)
                ledger.mark_step(conn, seq, "done")
        except psycopg.Error as exc:
            message = str(exc).splitlines()[0]
            if not optional:
                return f"post-load step failed: {sql}: {message}"
            ledger.mark_step(conn, seq, "skipped", message)


def _prepare(conn: psycopg.Connection, target: Endpoint, plan: Plan) -> None:
    objects = [("table", t.target) for t in plan.tables]
    with conn.transaction():
        ledger.create(conn, plan.mode, plan.source)
        if plan.mode == "hyperpage":
            objects.insert(0, ("table", ALEMBIC_TABLE))
        ledger.record_objects(conn, objects)
        for sql in plan.create:
            conn.execute(sql)
    steps = list(plan.post_load)
    if plan.mode == "hyperpage":
        from hyperpage.db import schema

        functions_before = _functions(conn)
        schema.upgrade(target.pg_dsn)
        with conn.transaction():
            # functions the schema brings (migration 0002's change trigger) are this migration's to roll back
            ledger.record_objects(conn, [("function", f) for f in sorted(_functions(conn) - functions_before)])
            steps = ddl.defer_hyperpage_constraints(conn)
            steps += [(ddl.sequence_reset(t.target, t.identity), False) for t in plan.tables if t.identity]
    with conn.transaction():
        ledger.record_plan(conn, [t.target for t in plan.tables], steps, plan.warnings)
        ledger.set_status(conn, "copying")


def _to_sqlite(source: Endpoint, target: Endpoint, plan: Plan, opts: Options) -> int:
    """The way back, into a new file: built as FILE.partial and renamed only when complete."""
    from hyperpage.db import schema

    assert target.path is not None
    if target.path.exists():
        if not opts.replace:
            raise MigrationError(f"{target.path} exists: choose a new file, or --replace one this tool wrote")
        rollback(target)
    partial = target.path.with_name(target.path.name + ".partial")
    partial.unlink(missing_ok=True)
    schema.upgrade(f"sqlite:///{partial}")
    conn = sqlite3.connect(partial)
    try:
        conn.execute(f"PRAGMA application_id = {SQLITE_MARKER}")
        copied = 0
        for table in plan.tables:
            with conn:
                copied += _with_progress(
                    copy_to_sqlite,
                    [(source, conn, table)],
                    {table.target: table.rows},
                    Options(workers=1, progress=opts.progress),
                    "copy",
                )[0].rows
            conn.execute(f"ANALYZE {quote_ident(table.target)}")
    finally:
        conn.close()
    os.replace(partial, target.path)
    return copied


def _functions(conn: psycopg.Connection) -> set[str]:
    return {
        name.removeprefix("public.")
        for kind, name, _ in ledger.catalog_snapshot(conn, include_ledger=False)
        if kind == "func" and name.startswith("public.")
    }
