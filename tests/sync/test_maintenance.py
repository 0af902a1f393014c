"""The scheduler prunes rate-limit samples about once an hour, and with several workers only one of them does."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select

from hyperpage.db.app_state import get_state
from hyperpage.db.base import utcnow
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.sync import leases
from hyperpage.sync.maintenance import PRUNE_EVERY, PRUNE_KEY
from hyperpage.tools.models import Connection
from tests import factories as f
from tests.sync.harness import harness

NO_UPSTREAM = httpx.MockTransport(lambda request: httpx.Response(404))


async def add_samples(db_url: str, now: datetime, *, old: int) -> None:
    """`old` samples of 40 days ago plus a recent one, on one (connection, resource)."""
    async with f.db_session(db_url) as s:
        conn = await s.scalar(select(Connection).where(Connection.name == "gh")) or await f.add_connection(
            s, tool="github", name="gh"
        )
        for minute in range(old):
            await f.add_rate_limit_sample(s, connection=conn, observed_at=now - timedelta(days=40, minutes=minute))
        await f.add_rate_limit_sample(s, connection=conn, observed_at=now)


async def count_samples(db_url: str) -> int:
    async with f.db_session(db_url) as s:
        return int(await s.scalar(select(func.count()).select_from(RateLimitSample)) or 0)


async def test_one_worker_prunes_per_hour_whatever_the_number_of_workers(db_url: str) -> None:
    now = utcnow()
    await add_samples(db_url, now, old=3)
    async with harness(db_url, NO_UPSTREAM) as a, harness(db_url, NO_UPSTREAM) as b, harness(db_url, NO_UPSTREAM) as c:
        outcomes = await asyncio.gather(*(h.scheduler.maintain() for h in (a, b, c)))
        [winner] = [o for o in outcomes if o.deleted is not None]
        assert winner.deleted == 3 and await count_samples(db_url) == 1
        for outcome in outcomes:  # the losers wait for the hour too
            assert now + PRUNE_EVERY <= outcome.next_check_at <= utcnow() + PRUNE_EVERY

        await add_samples(db_url, now, old=2)
        for h in (a, b, c):  # within the hour: nobody prunes again
            assert (await h.scheduler.maintain()).deleted is None
        assert await count_samples(db_url) == 4

        b.scheduler.clock = lambda: utcnow() + PRUNE_EVERY + timedelta(minutes=1)
        assert (await b.scheduler.maintain()).deleted == 2  # an hour later, any worker may
        assert await count_samples(db_url) == 2  # the two recent ones
        async with b.sessionmaker() as session:
            state = await get_state(session=session, key=PRUNE_KEY)
        assert state["owner"] == b.scheduler.worker and state["deleted"] == 2 and state["retention_days"] == 30
        # finished_at is on the scheduler's clock, like claimed_at
        assert datetime.fromisoformat(state["finished_at"]) >= datetime.fromisoformat(state["claimed_at"])

        async with b.sessionmaker() as session:  # the next claim starts a fresh record
            later = await leases.claim_periodic(
                session,
                key=PRUNE_KEY,
                worker="next-pod",
                every=PRUNE_EVERY,
                now=utcnow() + 2 * PRUNE_EVERY + timedelta(minutes=2),
            )
            state = await get_state(session=session, key=PRUNE_KEY)
        # if that run fails, nothing shows the previous run's results as if they were its own
        assert later.won and state["owner"] == "next-pod" and "deleted" not in state and "finished_at" not in state


async def test_a_lease_held_elsewhere_is_respected_until_it_is_due(db_url: str) -> None:
    now = utcnow()
    await add_samples(db_url, now, old=2)
    async with harness(db_url, NO_UPSTREAM) as h:
        async with h.sessionmaker() as session:
            other = await leases.claim_periodic(session, key=PRUNE_KEY, worker="other-pod", now=now, every=PRUNE_EVERY)
        assert other.won
        outcome = await h.scheduler.maintain()
        assert outcome.deleted is None and outcome.next_check_at == other.next_run_at
        assert await count_samples(db_url) == 3
        async with h.sessionmaker() as session:  # finishing is recorded by the owner only
            await leases.finish_periodic(
                session, key=PRUNE_KEY, worker=h.scheduler.worker, now=now, result={"deleted": 99}
            )
            assert "deleted" not in await get_state(session=session, key=PRUNE_KEY)


async def test_the_scheduler_loop_prunes_on_its_own(db_url: str) -> None:
    now = utcnow()
    await add_samples(db_url, now, old=7)
    async with harness(db_url, NO_UPSTREAM, sync_tick_seconds=0.05, hyperpage_rate_limit_retention_days=7) as h:
        loop = asyncio.create_task(h.scheduler.run_forever())
        for _ in range(1200):  # up to a minute on a loaded machine; the assertions below are exact
            async with h.sessionmaker() as session:
                state = await get_state(session=session, key=PRUNE_KEY)
            if state and "deleted" in state:
                break
            await asyncio.sleep(0.05)
        await add_samples(db_url, utcnow(), old=1)
        await asyncio.sleep(0.3)  # several more ticks: the next prune is an hour away
        await h.scheduler.stop(grace=5)
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        assert state["owner"] == h.scheduler.worker and state["deleted"] == 7 and state["retention_days"] == 7
        assert await count_samples(db_url) == 3


async def test_concurrent_claims_of_a_due_task_have_exactly_one_winner(db_url: str) -> None:
    async with harness(db_url, NO_UPSTREAM) as h:
        start = utcnow()

        async def claim(worker: str, now: datetime) -> leases.PeriodicClaim:
            async with h.sessionmaker() as session:
                return await leases.claim_periodic(
                    session, key="test.periodic", worker=worker, now=now, every=PRUNE_EVERY
                )

        assert (await claim("first", start)).won  # the row exists from here on: every round races on it
        for round_ in range(1, 6):
            now = start + round_ * 2 * PRUNE_EVERY  # due again
            claims = await asyncio.gather(*(claim(f"w{i}", now) for i in range(6)))
            assert sum(c.won for c in claims) == 1, round_
            assert {c.next_run_at for c in claims} == {now + PRUNE_EVERY}
