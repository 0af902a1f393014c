"""DB-derived sync gauges, refreshed on each scrape so every replica (web or worker) reports the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from hyperpage import metrics
from hyperpage.logging import get_logger
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.sync.models import SyncState, per_connection_resource
from hyperpage.tools.models import Connection

log = get_logger(__name__)
_JOB_GAUGES = (metrics.SYNC_LAST_SUCCESS, metrics.SYNC_INTERVAL)
_QUOTA_GAUGES = (metrics.RATE_LIMIT_LIMIT, metrics.RATE_LIMIT_REMAINING, metrics.RATE_LIMIT_RESET)


async def refresh_sync_gauges(app: Any) -> None:
    """Scrape hook: per (tool, connection, resource) the oldest last success (the laggiest repository is
    what an alert should see; 0 while any job has never succeeded), the interval, and the latest
    rate-limit sample."""
    try:
        async with app.state.sessionmaker() as session:
            jobs = (
                await session.execute(
                    per_connection_resource(
                        func.min(SyncState.last_success_at),
                        func.max(SyncState.interval_seconds),
                        func.count() - func.count(SyncState.last_success_at),
                    ).where(Connection.enabled.is_(True))
                )
            ).all()
            latest = (
                select(
                    RateLimitSample.connection_id,
                    RateLimitSample.resource,
                    func.max(RateLimitSample.observed_at).label("observed_at"),
                )
                .group_by(RateLimitSample.connection_id, RateLimitSample.resource)
                .subquery()
            )
            quotas = (
                await session.execute(
                    select(
                        Connection.tool,
                        Connection.name,
                        RateLimitSample.resource,
                        RateLimitSample.limit,
                        RateLimitSample.remaining,
                        RateLimitSample.reset_at,
                    )
                    .join(
                        latest,
                        (latest.c.connection_id == RateLimitSample.connection_id)
                        & (latest.c.resource == RateLimitSample.resource)
                        & (latest.c.observed_at == RateLimitSample.observed_at),
                    )
                    .join(Connection, Connection.id == RateLimitSample.connection_id)
                    .where(Connection.enabled.is_(True))
                )
            ).all()
    except Exception:  # a scrape must still answer when the database is down (hyperpage_db_up says so)
        log.warning("sync_gauges_unavailable", exc_info=True)
        return
    for gauge in (*_JOB_GAUGES, *_QUOTA_GAUGES):
        gauge.clear()
    for tool, name, resource, last_success, interval, never in jobs:
        # A job that never succeeded reports 0, so "time() - last success" calls it stale (the alert rule
        # relies on that) instead of the series being absent.
        oldest = 0.0 if never or last_success is None else last_success.timestamp()
        metrics.SYNC_LAST_SUCCESS.labels(tool, name, resource).set(oldest)
        metrics.SYNC_INTERVAL.labels(tool, name, resource).set(interval)
    now = datetime.now(UTC)
    for tool, name, resource, limit, remaining, reset_at in quotas:
        if reset_at is not None and _aware(reset_at) <= now:
            remaining = limit  # the window is over and refilled (rate_limits.service.current_status says why)
        metrics.RATE_LIMIT_LIMIT.labels(tool, name, resource).set(limit)
        metrics.RATE_LIMIT_REMAINING.labels(tool, name, resource).set(remaining)
        if reset_at is not None:
            metrics.RATE_LIMIT_RESET.labels(tool, name, resource).set(reset_at.timestamp())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
