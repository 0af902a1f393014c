"""Queries over upstream quota samples. Every SQL statement about rate_limit_samples lives here."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hyperpage import metrics
from hyperpage.db.expressions import dialect_of
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.rate_limits.schemas import (
    RateLimitQuery,
    RateLimitReport,
    RateLimitStatus,
    UsagePoint,
    UsageSeries,
    level_for,
    usage_percent,
)
from hyperpage.tools.models import Connection

MAX_HISTORY_ROWS = 20_000  # ~5-minute samples of 14 series over a week; bounds one response
# Rows per DELETE: each batch is its own short transaction, far below DB_STATEMENT_TIMEOUT on both engines.
PRUNE_BATCH = 5_000


async def current_status(
    session: AsyncSession, *, query: RateLimitQuery, now: datetime | None = None
) -> list[RateLimitStatus]:
    """The latest sample of every (connection, resource): the current quota picture.

    A sample describes one quota window. Past its reset time the window has started over (GitHub's
    `x-ratelimit-reset`, GitLab's `RateLimit-Reset` and Jira's `X-RateLimit-Reset` all name the moment
    the quota is refilled), so it is shown as full: a 429 seen hours ago, with no quota headers since,
    must not keep a connection "critical"."""
    now = now or datetime.now(UTC)
    ranked = (
        select(
            RateLimitSample,
            func.row_number()
            .over(
                partition_by=(RateLimitSample.connection_id, RateLimitSample.resource),
                order_by=(RateLimitSample.observed_at.desc(), RateLimitSample.id.desc()),
            )
            .label("rank"),
        )
        .join(Connection, Connection.id == RateLimitSample.connection_id)
        .where(*_conditions(query))
        .subquery()
    )
    stmt = (
        select(ranked, Connection.name, Connection.tool)
        .join(Connection, Connection.id == ranked.c.connection_id)
        .where(ranked.c.rank == 1)
        .order_by(Connection.tool, Connection.name, ranked.c.resource)
    )
    out = []
    for row in (await session.execute(stmt)).mappings():
        reset_at = _aware(row["reset_at"])
        remaining = row["limit"] if reset_at is not None and reset_at <= now else row["remaining"]
        pct = usage_percent(row["limit"], remaining)
        out.append(
            RateLimitStatus(
                connection_id=row["connection_id"],
                connection=row["name"],
                tool=row["tool"],
                resource=row["resource"],
                limit=row["limit"],
                remaining=remaining,
                used=max(0, row["limit"] - remaining),
                usage_percent=pct,
                level=level_for(pct),
                reset_at=reset_at,
                observed_at=_aware(row["observed_at"]),
            )
        )
    return out


async def history(session: AsyncSession, *, query: RateLimitQuery, now: datetime | None = None) -> list[UsageSeries]:
    """Samples of the last `hours`, one series per (connection, resource), oldest first."""
    since = (now or datetime.now(UTC)) - timedelta(hours=query.hours)
    s = RateLimitSample
    stmt = (  # columns, not ORM entities: read-only rows, up to MAX_HISTORY_ROWS of them
        select(s.connection_id, s.resource, s.observed_at, s.limit, s.remaining, Connection.name, Connection.tool)
        .join(Connection, Connection.id == s.connection_id)
        .where(s.observed_at >= since, *_conditions(query))
        .order_by(s.observed_at.desc(), s.id.desc())
        .limit(MAX_HISTORY_ROWS)
    )
    series: dict[tuple[int, str], UsageSeries] = {}
    points: dict[tuple[int, str], list[UsagePoint]] = defaultdict(list)
    for connection_id, resource, observed_at, limit, remaining, name, tool in (await session.execute(stmt)).all():
        key = (connection_id, resource)
        if key not in series:
            series[key] = UsageSeries(
                connection_id=connection_id, connection=name, tool=tool, resource=resource, points=[]
            )
        points[key].append(
            UsagePoint(
                observed_at=observed_at, limit=limit, remaining=remaining, usage_percent=usage_percent(limit, remaining)
            )
        )
    for key, item in series.items():
        item.points = list(reversed(points[key]))
    return sorted(series.values(), key=lambda s: (s.tool, s.connection, s.resource))


async def report(session: AsyncSession, *, query: RateLimitQuery) -> RateLimitReport:
    return RateLimitReport(
        current=await current_status(session, query=query),
        history=await history(session, query=query),
        window_hours=query.hours,
    )


async def prune_samples(
    session: AsyncSession,
    *,
    retention_days: int,
    now: datetime | None = None,
    batch_size: int = PRUNE_BATCH,
    max_seconds: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Delete samples older than `retention_days`, oldest first, and return how many went.

    The newest sample of every (connection, resource) stays whatever its age: it is the current status.
    Each batch is committed on its own, so a large backlog never holds one long lock or transaction. With
    `max_seconds`, stop after the batch that reaches it (the rest goes next time); `should_stop` is asked
    after each batch too (a worker shutting down)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    old, newer = aliased(RateLimitSample), aliased(RateLimitSample)
    # A sample goes only if its series has a strictly newer one, so every sample at the series' latest time
    # stays (current_status picks among them). That condition is one seek in the (connection, resource,
    # observed_at) index; an (observed_at, id) tie-break would make PostgreSQL hash-join the whole table per
    # batch (60x slower, bench/bench_retention.py). Rows written meanwhile are only ever newer, so concurrent
    # prunes never delete a series' last sample.
    superseded = (
        select(newer.id)
        .where(
            newer.connection_id == old.connection_id,
            newer.resource == old.resource,
            newer.observed_at > old.observed_at,
        )
        .exists()
    )
    batch = (
        select(old.id).where(old.observed_at < cutoff, superseded).order_by(old.observed_at, old.id).limit(batch_size)
    )
    stmt = delete(RateLimitSample).where(RateLimitSample.id.in_(batch)).execution_options(synchronize_session=False)
    single_writer = dialect_of(session) == "sqlite"
    started = time.monotonic()
    deleted = 0
    while True:
        batch_started = time.monotonic()
        # a DELETE's result is a CursorResult (it has the rowcount); execute() is typed for any statement
        count = cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0
        await session.commit()
        deleted += count
        metrics.RATE_LIMIT_SAMPLES_PRUNED.inc(count)
        if count < batch_size or (max_seconds is not None and time.monotonic() - started >= max_seconds):
            return deleted
        if should_stop is not None and should_stop():
            return deleted
        if single_writer:  # leave SQLite's one write lock free as long as we held it, or the sync's writes starve
            await asyncio.sleep(time.monotonic() - batch_started)


def _conditions(query: RateLimitQuery) -> list[Any]:
    conds: list[Any] = []
    if query.tool:
        conds.append(Connection.tool == query.tool.value)
    if query.connection:
        conds.append(RateLimitSample.connection_id == query.connection)
    if query.resource:
        conds.append(RateLimitSample.resource == query.resource)
    return conds


def _aware(value: Any) -> Any:
    """Columns read through a subquery skip TZDateTime on SQLite; put the UTC zone back."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
