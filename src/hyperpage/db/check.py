"""Database reachability and schema revision, as the probes and /api/health report them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from hyperpage import metrics
from hyperpage.db.schema import async_current_revision, head_revision
from hyperpage.logging import redact_text


@dataclass(frozen=True)
class DatabaseCheck:
    reachable: bool
    latency_ms: float | None
    revision: str | None
    head: str
    error: str | None = None

    @property
    def at_head(self) -> bool:
        return self.reachable and self.revision == self.head


async def check_database(engine: AsyncEngine, *, timeout: float = 2.0) -> DatabaseCheck:
    """Read the schema revision (which also proves the database answers) within timeout seconds."""
    head = head_revision()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                revision = await async_current_revision(conn)
    except Exception as exc:  # any failure means "not reachable"; the reason goes to the report
        metrics.DB_UP.set(0)
        reason = redact_text(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]
        return DatabaseCheck(False, None, None, head, reason or "timeout")
    metrics.DB_UP.set(1)
    return DatabaseCheck(True, round((time.perf_counter() - started) * 1000, 2), revision, head)


def record_pool_metrics(engine: AsyncEngine) -> None:
    """Copy the pool's counters into the gauges (called on each scrape)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):  # NullPool and StaticPool keep no counters
        return
    metrics.DB_POOL_SIZE.set(pool.size() + max(getattr(pool, "_max_overflow", 0), 0))
    metrics.DB_POOL_IN_USE.set(pool.checkedout())
    metrics.DB_POOL_IDLE.set(pool.checkedin())
    metrics.DB_POOL_OVERFLOW.set(max(pool.overflow(), 0))
