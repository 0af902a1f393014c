"""A quota sample describes one window: past its reset time it no longer says how much quota is left."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.rate_limits.schemas import RateLimitQuery
from hyperpage.rate_limits.service import current_status
from hyperpage.sync.runs import record_samples
from hyperpage.tools.http import QuotaSample
from tests import factories as f


async def test_a_429_sample_past_its_reset_is_no_longer_critical(db_url: str) -> None:
    # GitHub: x-ratelimit-reset is "the time at which the current rate limit window resets"
    # (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api); GitLab's RateLimit-Reset
    # and Jira's X-RateLimit-Reset say the same. Later responses without quota headers leave this the latest.
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        await f.add_rate_limit_sample(
            s,
            connection=gh,
            resource="core",
            limit=5000,
            remaining=0,
            observed_at=now - timedelta(hours=3),
            reset_at=now - timedelta(hours=2),
        )
        await f.add_rate_limit_sample(
            s,
            connection=gh,
            resource="search",
            limit=30,
            remaining=0,
            observed_at=now - timedelta(seconds=5),
            reset_at=now + timedelta(seconds=50),
        )
    async with f.db_session(db_url) as s:
        current = {c.resource: c for c in await current_status(s, query=RateLimitQuery())}
    assert current["core"].level == "normal" and current["core"].remaining == 5000 and current["core"].used == 0
    assert current["search"].level == "critical"  # still inside its window


async def test_an_expired_in_memory_sample_is_not_written_again(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        # a 429's sample (reset in a minute) and one with an hour to go; later responses carry no headers
        samples = {
            "core": QuotaSample("core", 5000, 0, now + timedelta(minutes=1)),
            "search": QuotaSample("search", 30, 29, now + timedelta(hours=1)),
        }
        written: dict = {}
        assert await record_samples(s, connection_id=gh.id, samples=samples, written=written, now=now) == 2
        later = now + timedelta(minutes=5)
        assert await record_samples(s, connection_id=gh.id, samples=samples, written=written, now=later) == 1
        await s.commit()
    assert set(samples) == {"search"}  # the 429's window is over: not written again, not kept
    async with f.db_session(db_url) as s:
        assert len((await s.scalars(select(RateLimitSample))).all()) == 3
