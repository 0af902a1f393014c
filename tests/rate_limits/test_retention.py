"""prune_samples: old samples go in batches, recent ones stay, and every series keeps its newest sample."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.rate_limits.schemas import RateLimitQuery
from hyperpage.rate_limits.service import current_status, prune_samples
from tests import factories as f


def pruned_total() -> float:
    return REGISTRY.get_sample_value("hyperpage_rate_limit_samples_pruned_total") or 0.0


async def remaining_by_series(db_url: str) -> dict[tuple[int, str], list[int]]:
    """The `remaining` values left per (connection, resource), oldest first (each sample has its own)."""
    async with f.db_session(db_url) as s:
        rows = (
            await s.scalars(select(RateLimitSample).order_by(RateLimitSample.observed_at, RateLimitSample.id))
        ).all()
    out: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        out.setdefault((row.connection_id, row.resource), []).append(row.remaining)
    return out


async def test_old_samples_go_recent_stay_and_each_series_keeps_its_newest(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        for remaining, age in ((1, 40), (2, 31), (3, 29), (4, 0)):
            await f.add_rate_limit_sample(
                s, connection=gh, resource="core", remaining=remaining, observed_at=now - timedelta(days=age)
            )
        for remaining, age in ((10, 50), (11, 45)):  # every sample old: the newest one stays
            await f.add_rate_limit_sample(
                s, connection=gh, resource="search", remaining=remaining, observed_at=now - timedelta(days=age)
            )
        await f.add_rate_limit_sample(
            s, connection=gl, resource="global", remaining=20, observed_at=now - timedelta(days=90)
        )  # a connection that went quiet
        for remaining, age in ((29, 61), (30, 60), (31, 60)):  # samples at the latest time all stay
            await f.add_rate_limit_sample(
                s, connection=gl, resource="other", remaining=remaining, observed_at=now - timedelta(days=age)
            )
    async with f.db_session(db_url) as s:
        before = await current_status(s, query=RateLimitQuery())
    counted = pruned_total()

    async with f.db_session(db_url) as s:
        assert await prune_samples(s, retention_days=30, now=now) == 4

    assert await remaining_by_series(db_url) == {
        (gh.id, "core"): [3, 4],
        (gh.id, "search"): [11],
        (gl.id, "global"): [20],
        (gl.id, "other"): [30, 31],
    }
    async with f.db_session(db_url) as s:
        assert await current_status(s, query=RateLimitQuery()) == before
        assert await prune_samples(s, retention_days=30, now=now) == 0  # idempotent
        assert await prune_samples(s, retention_days=1, now=now) == 1  # the 29-day-old one
    assert pruned_total() - counted == 5


async def _minute_series(s, connection, resource: str, *, count: int, start) -> None:
    """`count` samples a minute apart from `start`; sample n has `remaining` n, so tests can see which went."""
    for minute in range(count):
        await f.add_rate_limit_sample(
            s, connection=connection, resource=resource, remaining=minute, observed_at=start + timedelta(minutes=minute)
        )


async def test_a_backlog_larger_than_a_batch_goes_in_several_batches(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        await _minute_series(s, gh, "core", count=23, start=now - timedelta(days=40))
        await f.add_rate_limit_sample(s, connection=gh, resource="core", remaining=99, observed_at=now)
        await _minute_series(s, gh, "search", count=3, start=now - timedelta(days=35))

    async with f.db_session(db_url) as s:
        # a time budget already spent: one batch, the oldest first, then stop
        assert await prune_samples(s, retention_days=30, now=now, batch_size=5, max_seconds=0) == 5
    left = await remaining_by_series(db_url)
    assert left[(gh.id, "core")] == [*range(5, 23), 99] and left[(gh.id, "search")] == [0, 1, 2]

    async with f.db_session(db_url) as s:  # a worker shutting down: the batch in hand, then stop
        asked = []
        assert (
            await prune_samples(
                s, retention_days=30, now=now, batch_size=5, should_stop=lambda: asked.append(1) or True
            )
            == 5
        )
        assert asked == [1]

    async with f.db_session(db_url) as s:  # 13 + 2 rows: three full batches, then an empty one
        assert await prune_samples(s, retention_days=30, now=now, batch_size=5) == 15
    assert await remaining_by_series(db_url) == {(gh.id, "core"): [99], (gh.id, "search"): [2]}


async def test_batches_are_committed_as_they_go(db_url: str) -> None:
    """A failure after some batches (here: the session closed mid-way) keeps what was already deleted."""
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        await _minute_series(s, gh, "core", count=10, start=now - timedelta(days=40))
    async with f.db_session(db_url) as s:
        assert await prune_samples(s, retention_days=30, now=now, batch_size=4, max_seconds=0) == 4
        await s.rollback()  # nothing left to undo: the batch is already committed
    assert await remaining_by_series(db_url) == {(gh.id, "core"): list(range(4, 10))}
    asked = 0

    def fails_after_the_first_batch() -> bool:
        nonlocal asked
        asked += 1
        raise RuntimeError("the worker's database went away mid-prune")

    with pytest.raises(RuntimeError):  # outside the session: it rolls back what was not committed yet
        async with f.db_session(db_url) as s:
            await prune_samples(s, retention_days=30, now=now, batch_size=4, should_stop=fails_after_the_first_batch)
    assert asked == 1
    assert await remaining_by_series(db_url) == {(gh.id, "core"): [8, 9]}  # the failed run's first batch stays gone
