"""Rate-limit sample retention: pruning a backlog in batches against one big DELETE (the same-run baseline).

The backlog is 14 series (2 connections x 7 resources) with one sample every 2 minutes over
HYPERPAGE_BENCH_RETENTION_DAYS days (default 60), so about half of it is older than the 30-day window. For
SQLite and PostgreSQL, each strategy starts from a copy of the same seeded database while a writer inserts a
sample every 10 ms, as the sync does; printed: rows deleted, seconds, rows/s, the longest single DELETE
(how long one transaction held its locks) and the writer's worst insert latency. On SQLite the writer waits
for every open write transaction, so its worst wait is the lock the prune held; on PostgreSQL inserts do not
wait for deletes of other rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from tests.pg import PgCluster

from hyperpage.config import load_settings
from hyperpage.db import schema
from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.rate_limits.service import PRUNE_BATCH, prune_samples

DAYS = int(os.environ.get("HYPERPAGE_BENCH_RETENTION_DAYS", 60))
PER_SERIES = DAYS * 24 * 30  # one sample every 2 minutes
NOW = datetime.now(UTC).replace(microsecond=0)
SEED = {
    "postgresql": """
        INSERT INTO rate_limit_samples (connection_id, resource, "limit", remaining, reset_at, observed_at)
        SELECT 1 + s / 7, 'r' || (s % 7), 5000, 5000 - g % 5000, NULL,
               CAST(:now AS timestamptz) - g * interval '2 minutes'
        FROM generate_series(0, 13) s, generate_series(1, :per) g""",
    "sqlite": """
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :per),
                       s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < 13)
        INSERT INTO rate_limit_samples (connection_id, resource, "limit", remaining, reset_at, observed_at)
        SELECT 1 + k / 7, 'r' || (k % 7), 5000, 5000 - n % 5000, NULL,
               strftime('%Y-%m-%d %H:%M:%S', :now, '-' || (n * 2) || ' minutes') || '.000000'
        FROM s, g""",
}


async def seed(url: str) -> None:
    engine = create_engine(load_settings(database_url=url))
    async with engine.begin() as conn:
        for name in ("gh", "gl"):
            await conn.execute(
                text(
                    "INSERT INTO connections (tool, name, base_url, scope, enabled, created_at, "
                    "updated_at) VALUES ('github', :n, 'https://x', '{}', true, :t, :t)"
                ),
                {"n": name, "t": NOW if conn.dialect.name == "postgresql" else NOW.isoformat()},
            )
        now = NOW if conn.dialect.name == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S")
        await conn.execute(text(SEED[conn.dialect.name]), {"now": now, "per": PER_SERIES})
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE rate_limit_samples"))
    await engine.dispose()


async def writer(url: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """Insert a sample every 10 ms, as the sync does, and record how long each insert and commit took."""
    engine = create_engine(load_settings(database_url=url, db_statement_timeout=600))
    sessions = make_sessionmaker(engine)
    while not stop.is_set():
        started = time.perf_counter()
        async with sessions() as session:
            session.add(
                RateLimitSample(connection_id=1, resource="probe", limit=1, remaining=1, observed_at=datetime.now(UTC))
            )
            await session.commit()
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    await engine.dispose()


async def run(url: str, batch_size: int) -> dict[str, Any]:
    # No statement timeout: the baseline's single DELETE must be allowed to finish to be measured.
    engine = create_engine(load_settings(database_url=url, db_statement_timeout=0))
    deletes: list[float] = []

    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        conn.info["delete_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(time.perf_counter() - conn.info["delete_started"])

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    stop, latencies = asyncio.Event(), []
    writing = asyncio.create_task(writer(url, stop, latencies))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    async with make_sessionmaker(engine)() as session:
        deleted = await prune_samples(session, retention_days=30, now=NOW, batch_size=batch_size)
    seconds = time.perf_counter() - started
    stop.set()
    await writing
    await engine.dispose()
    return {
        "deleted": deleted,
        "seconds": seconds,
        "batches": len(deletes),
        "longest": max(deletes),
        "writer_max": max(latencies),
        "writes": len(latencies),
    }


def report(label: str, r: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
    ratios = ""
    if baseline:
        ratios = (
            f"  time x{r['seconds'] / baseline['seconds']:.2f}"
            f", longest DELETE x{r['longest'] / baseline['longest']:.3f}"
            f", writer worst x{r['writer_max'] / baseline['writer_max']:.3f}"
        )
    print(
        f"  {label:<26} deleted {r['deleted']:>8}  {r['seconds']:6.2f} s  {r['deleted'] / r['seconds']:>8.0f} rows/s"
        f"  DELETEs {r['batches']:>4}  longest {r['longest'] * 1000:8.1f} ms"
        f"  writer worst {r['writer_max'] * 1000:8.1f} ms ({r['writes']} inserts){ratios}"
    )


def main(_args: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="hyperpage-bench-retention-"))
    cluster = PgCluster.start()
    try:
        print(
            f"backlog: 14 series x {PER_SERIES} samples ({DAYS} days, one per 2 min) = {14 * PER_SERIES} rows; "
            f"window 30 days; batch {PRUNE_BATCH}"
        )
        template = cluster.create_database(prefix="retention_seed")
        schema.upgrade(cluster.url(template))
        asyncio.run(seed(cluster.url(template)))
        seeded = work / "seed.db"
        schema.upgrade(f"sqlite:///{seeded}")
        asyncio.run(seed(f"sqlite:///{seeded}"))
        for engine_name in ("sqlite", "postgresql"):
            print(f"{engine_name}:")
            results = {}
            for label, batch in (("one DELETE (baseline)", 10**9), (f"batches of {PRUNE_BATCH}", PRUNE_BATCH)):
                if engine_name == "sqlite":
                    copy = work / f"run-{batch}.db"
                    shutil.copyfile(seeded, copy)
                    url = f"sqlite:///{copy}"
                else:
                    url = cluster.url(cluster.create_database(template=template, prefix="retention"))
                results[label] = asyncio.run(run(url, batch))
                report(label, results[label], None if batch == 10**9 else results["one DELETE (baseline)"])
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
