"""Backups: time and size of logical and pgBackRest backups of a ~1 GB database, measured RPO and RTO.

- Logical (`hyperpage backup`): create, verify (restore into scratch + compare), restore; RTO = from the start
  of the restore to the first /readyz 200 of a `hyperpage serve` started on the empty target at that moment.
- Physical (pgBackRest): full backup, point-in-time restore; RTO = from the start of the restore to /readyz 200.
- RPO: with archive_timeout = ARCHIVE_TIMEOUT_S (the Kubernetes setting), a row is written every 0.5 s and the
  time until the WAL segment holding it is archived is measured; the maximum is the data a crash of the whole
  database volume would lose (the drill's worst case).
Figures depend on this machine (2 shared cores, fsync off in the throwaway cluster): compare them with each
other and with the targets (RPO < 1 min, RTO < 5 min for 1 GB), not across machines.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Boolean, Float, Integer, String, Table, Text
from sqlalchemy.types import JSON
from tests.backup.generator import allowed_values
from tests.backup.pitr import ArchivedCluster
from tests.serverproc import ServerProcess

from bench.common import median
from hyperpage.backup.destinations import LocalDestination
from hyperpage.backup.dump import create_backup
from hyperpage.backup.restore import restore_backup
from hyperpage.backup.verify import verify_backup
from hyperpage.db import schema
from hyperpage.db.base import TZDateTime
from hyperpage.db.models import Base

TARGET_BYTES = int(os.environ.get("HYPERPAGE_BENCH_BACKUP_BYTES", 1_000_000_000))
ARCHIVE_TIMEOUT_S = 30
SMALL = {"connections": 10, "repositories": 200, "sync_state": 100, "app_state": 5}
BIG = ("pull_requests", "pipelines", "issues", "rate_limit_samples", "sync_runs")
BATCH = 200_000
T = TypeVar("T")


def _expr(table: Table, column: Any, allowed: dict[str, list[str]]) -> str:
    """A SQL expression of g (the generate_series value) giving a valid, varied value for the column."""
    kind = column.type
    if column.name in allowed:
        values = ", ".join(f"'{v}'" for v in allowed[column.name])
        return f"(ARRAY[{values}])[1 + g % {len(allowed[column.name])}]"
    if column.primary_key and isinstance(kind, Integer):
        return "g"
    if column.foreign_keys:
        parent = next(iter(column.foreign_keys)).column.table.name
        return f"1 + g % {SMALL[parent]}"
    unique = any(column.name in c.columns for c in table.constraints if c.__class__.__name__ == "UniqueConstraint")
    if column.primary_key or unique:
        return f"'{table.name[:8]}-' || g"
    if isinstance(kind, TZDateTime):
        value = "timestamptz '2025-01-01 00:00:00+00' + g * interval '37 seconds'"
    elif isinstance(kind, Boolean):
        value = "g % 2 = 0"
    elif isinstance(kind, Float):
        value = "(g % 10000) / 10.0"
    elif isinstance(kind, Integer):
        value = "g % 100000"
    elif isinstance(kind, JSON):
        value = "jsonb_build_array('label-' || g % 10, 'team-' || g % 7)"
    elif isinstance(kind, Text):
        value = "md5(g::text) || ' ' || repeat(md5((g * 7)::text), 2)"
    elif isinstance(kind, String):
        value = f"left(md5(g::text) || md5((g + 1)::text), {min(kind.length or 64, 48)})"
    else:
        raise TypeError(f"no rule for {table.name}.{column.name}")
    return f"CASE WHEN g % 11 = 0 THEN NULL ELSE {value} END" if column.nullable else value


def generate(url: str, target_bytes: int) -> tuple[int, int]:
    """Fill the schema with INSERT ... SELECT generate_series until the database holds target_bytes."""
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    rows = 0
    with psycopg.connect(url, autocommit=True) as conn:

        def insert(table: Table, start: int, count: int) -> None:
            allowed = allowed_values(table)
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            exprs = ", ".join(_expr(table, c, allowed) for c in table.columns)
            conn.execute(
                f"INSERT INTO {table.name} ({cols}) SELECT {exprs} "
                f"FROM generate_series({start + 1}, {start + count}) AS g"
            )

        for name, count in SMALL.items():
            insert(tables[name], 0, count)
        insert(tables["tool_configs"], 0, 3)
        start = 0
        while conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] < target_bytes:
            for name in BIG:
                insert(tables[name], start, BATCH)
            start += BATCH
            rows += BATCH * len(BIG)
        for name in tables:
            if name in BIG or name in ("connections", "repositories", "sync_state"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return size, rows + sum(SMALL.values()) + 3


def _timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def rto_until_ready(database_url: str, workdir: Path, restore: Callable[[], None]) -> dict[str, float]:
    """Start `hyperpage serve` on the (empty) target and run restore(); seconds from start to /readyz 200.

    /readyz is polled throughout, to show it answers 503 during the restore and 200 only after it returned.
    """
    server = ServerProcess(env={"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"})
    polls: list[tuple[float, int | None]] = []  # (request sent, status)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            sent = time.perf_counter()
            polls.append((sent, server.status("/readyz")))
            time.sleep(0.1)

    started = time.perf_counter()
    server.start(workdir / "rto-serve.log")
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        restore()
        restored = time.perf_counter()
        if not server.wait_status("/readyz", 200, timeout=120):
            raise RuntimeError(f"/readyz never 200 after the restore:\n{server.logs()[-2000:]}")
        ready = time.perf_counter()
    finally:
        done.set()
        watcher.join(timeout=10)
        server.stop()
    first_ok = min((sent for sent, status in polls if status == 200), default=ready)
    return {
        "restore": restored - started,
        "rto": ready - started,
        "first_200_sent": first_ok - started,
        "not_ready_during_restore": sum(1 for sent, status in polls if sent < restored and status == 503),
    }


def measure_rpo(drill: ArchivedCluster, seconds: float) -> list[float]:
    """Seconds each committed row waited until its WAL segment was archived."""
    pending: list[tuple[float, str]] = []
    delays: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def archiver_watch() -> None:
        with drill.connect() as conn:
            while not (stop.is_set() and not pending):
                last = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0] or ""
                now = time.monotonic()
                with lock:
                    for item in [p for p in pending if p[1] <= last]:
                        delays.append(now - item[0])
                        pending.remove(item)
                time.sleep(0.1)

    watcher = threading.Thread(target=archiver_watch, daemon=True)
    watcher.start()
    with drill.connect() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS rpo_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            segment = conn.execute(
                "INSERT INTO rpo_probe DEFAULT VALUES RETURNING pg_walfile_name(pg_current_wal_insert_lsn())"
            ).fetchone()[0]
            with lock:
                pending.append((time.monotonic(), segment))
            time.sleep(0.5)
    stop.set()
    watcher.join(timeout=ARCHIVE_TIMEOUT_S * 3)
    return delays


def main(_args: list[str]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hyperpage-bench-backup-"))
    drill = ArchivedCluster.start(archive_timeout_s=ARCHIVE_TIMEOUT_S)
    try:
        admin = drill.cluster
        source = admin.url(admin.create_database(prefix="bench_source"))
        schema.upgrade(source)
        (size, rows), gen_s = _timed(generate, source, TARGET_BYTES)
        print(f"database: {_mb(size)} on disk, {rows:,} rows (generated in {gen_s:.0f} s, WAL archived)")
        drill.pgbackrest("check")  # let the archiver catch up before timing anything

        dest = LocalDestination(f"file://{workdir / 'backups'}", workdir / "backups")
        manifest, create_s = _timed(create_backup, database_url=source, destination=dest, work_dir=workdir)
        print(
            f"logical create : {create_s:6.1f} s  file {_mb(manifest.size)} "
            f"({manifest.size / size:.1%} of the database), {manifest.total_rows:,} rows checksummed"
        )
        _, verify_s = _timed(verify_backup, manifest=manifest, destination=dest, server_url=source, work_dir=workdir)
        print(f"logical verify : {verify_s:6.1f} s  (sha256, restore into scratch, compare every table)")
        target = admin.url(admin.create_database(prefix="bench_restore"))
        rto = rto_until_ready(
            target,
            workdir,
            lambda: restore_backup(manifest=manifest, destination=dest, target_url=target, work_dir=workdir),
        )
        print(
            f"logical restore: {rto['restore']:6.1f} s; RTO to /readyz 200: {rto['rto']:.1f} s (target < 300 s); "
            f"/readyz answered 503 {rto['not_ready_during_restore']:.0f} times during the restore, first 200 "
            f"requested at {rto['first_200_sent']:.1f} s (restore returned at {rto['restore']:.1f} s)"
        )

        _, full_s = _timed(drill.pgbackrest, "backup", "--type=full")
        repo = sum(f.stat().st_size for f in (drill.root / "repo").rglob("*") if f.is_file())
        print(f"pgBackRest full: {full_s:6.1f} s  repository {_mb(repo)} (backup + WAL since start, lz4)")

        delays = measure_rpo(drill, seconds=2.2 * ARCHIVE_TIMEOUT_S)
        print(
            f"RPO (archive_timeout {ARCHIVE_TIMEOUT_S} s): worst {max(delays):.1f} s, median {median(delays):.1f} s "
            f"over {len(delays)} writes (target < 60 s; seed < 3600 s)"
        )

        with drill.connect("postgres") as conn:
            point = conn.execute("SELECT clock_timestamp()::text").fetchone()[0]
            time.sleep(0.2)
            # Recovery stops at the first commit after T; without one it would run off the end of the WAL.
            conn.execute("INSERT INTO rpo_probe DEFAULT VALUES")
        drill.pgbackrest("check")
        started = time.perf_counter()
        restored = drill.restore_to_time(point)
        server = ServerProcess(env={"DATABASE_URL": restored.url(source.rsplit("/", 1)[1]), "LOG_LEVEL": "WARNING"})
        server.start(workdir / "pitr-serve.log")
        try:
            if not server.wait_status("/readyz", 200, timeout=120):
                raise RuntimeError(server.logs()[-2000:])
            pitr_rto = time.perf_counter() - started
        finally:
            server.stop()
        print(f"pgBackRest PITR: RTO to /readyz 200: {pitr_rto:.1f} s (restore, WAL replay to T, promote, serve)")
    finally:
        drill.destroy()
