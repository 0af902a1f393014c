"""Housekeeping the scheduler runs besides sync jobs: rate-limit sample retention, about once an hour.

Every worker (and `serve` on SQLite) tries; the periodic lease in app_state lets one of them win per hour,
so N pods never prune at the same time nor more often than that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperpage.config import Settings
from hyperpage.logging import get_logger
from hyperpage.rate_limits.service import prune_samples
from hyperpage.sync import leases

PRUNE_KEY = "sync.rate_limit_samples_prune"
PRUNE_EVERY = timedelta(hours=1)
# A run stops after half a period (the rest goes next hour), so it ends long before anyone may claim again.
PRUNE_MAX_SECONDS = PRUNE_EVERY.total_seconds() / 2
RETRY_AFTER_ERROR = timedelta(minutes=5)

log = get_logger(__name__)


@dataclass(frozen=True)
class PruneOutcome:
    deleted: int | None  # None: another worker's turn (or an error); this one did not prune
    next_check_at: datetime


async def prune_if_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    worker: str,
    now: datetime,
    should_stop: Callable[[], bool] | None = None,
) -> PruneOutcome:
    """Prune old rate-limit samples if no worker did in the last hour; never raises (errors are logged)."""
    try:
        async with sessionmaker() as session:
            claim = await leases.claim_periodic(session, key=PRUNE_KEY, worker=worker, now=now, every=PRUNE_EVERY)
    except Exception:  # the database may be restarting; look again a little later
        log.exception("rate_limit_prune_claim_failed")
        return PruneOutcome(None, now + RETRY_AFTER_ERROR)
    if not claim.won:
        return PruneOutcome(None, claim.next_run_at)
    days = settings.hyperpage_rate_limit_retention_days
    started = time.monotonic()  # finished_at is `now` (the caller's clock, as in the claim) plus the run's length
    try:
        async with sessionmaker() as session:
            deleted = await prune_samples(
                session, retention_days=days, now=now, max_seconds=PRUNE_MAX_SECONDS, should_stop=should_stop
            )
            finished = now + timedelta(seconds=time.monotonic() - started)
            await leases.finish_periodic(
                session, key=PRUNE_KEY, worker=worker, now=finished, result={"deleted": deleted, "retention_days": days}
            )
    except Exception:  # batches already committed stay deleted; the next period carries on
        log.exception("rate_limit_prune_failed", retention_days=days)
        return PruneOutcome(None, claim.next_run_at)
    log.info("rate_limit_samples_pruned", deleted=deleted, retention_days=days)
    return PruneOutcome(deleted, claim.next_run_at)
