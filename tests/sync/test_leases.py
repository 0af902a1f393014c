"""Leases: N schedulers on one database run each job once per interval; an expired lease is taken over."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from hyperpage.db.base import utcnow
from hyperpage.db.session import session_scope
from hyperpage.sync import leases, runs
from hyperpage.sync.models import SyncRun, SyncState
from hyperpage.tools.http import RequestStats
from tests.sync.harness import harness
from tests.tools.mock_github import MockGitHub

REPOS = {f"acme/repo{i}": 3 for i in range(6)}
SETTINGS = {"enable_github": True, "github_token": "ghp_lease7test8token", "github_repos": ",".join(REPOS)}


def _held_until_both_work(mock: MockGitHub, name: str, seen: set[str], both: asyncio.Event) -> httpx.MockTransport:
    """A scheduler's repository requests wait until the other scheduler has one too.

    Without this, on a slow machine one scheduler can claim and finish every job before the other's first
    tick, and "both did work" fails by chance. Held requests fill the first scheduler's job slots, so the
    second must claim the rest; the wait is bounded so a scheduler that never works fails the test.
    """

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.count("/") >= 4:  # /repos/{owner}/{name}/...: a per-repository job
            seen.add(name)
            if len(seen) == 2:
                both.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await both.wait()
        return mock.handle(request)

    return httpx.MockTransport(handle)


async def test_two_schedulers_run_each_job_once_per_interval(db_url: str) -> None:
    mock = MockGitHub(REPOS)
    fast = {
        **SETTINGS,
        "sync_tick_seconds": 0.05,
        "sync_pull_requests_interval_seconds": 3600,
        "sync_pipelines_interval_seconds": 3600,
        "sync_issues_interval_seconds": 3600,
        "sync_rate_limits_interval_seconds": 3600,
        "sync_concurrent_jobs": 3,
    }
    seen: set[str] = set()
    both = asyncio.Event()
    async with (
        harness(db_url, _held_until_both_work(mock, "a", seen, both), **fast) as a,
        harness(db_url, _held_until_both_work(mock, "b", seen, both), **fast) as b,
    ):
        await a.scheduler.prepare()
        tasks = [asyncio.create_task(s.run_forever()) for s in (a.scheduler, b.scheduler)]
        expected = 1 + 1 + len(REPOS) * 3  # discovery + rate limits + 3 resources per repository
        for _ in range(1200):  # up to a minute: a loaded CI machine is slow, the assertions below are exact
            if await a.count(SyncRun, SyncRun.status != "RUNNING") >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # several more ticks: nothing is due again within the interval
        for s in (a.scheduler, b.scheduler):
            await s.stop(grace=5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with a.sessionmaker() as session:
            per_job = (
                await session.execute(select(SyncRun.sync_state_id, func.count()).group_by(SyncRun.sync_state_id))
            ).all()
            workers = set((await session.scalars(select(SyncRun.worker))).all())
        assert len(per_job) == expected and {count for _, count in per_job} == {1}
        assert len(workers) == 2  # both did work
        pulls = [c for c in mock.calls if c.url.path.endswith("/pulls")]
        assert sorted(c.url.path for c in pulls) == sorted(f"/repos/{r}/pulls" for r in REPOS)


async def test_expired_lease_is_taken_over_and_the_dead_run_closed(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 2})
    async with harness(db_url, mock.transport, **SETTINGS, sync_lease_seconds=30) as h:
        await h.scheduler.prepare()
        now = utcnow()
        async with h.sessionmaker() as session:
            [job] = await leases.claim_due(session, worker="dead-worker", now=now, lease_seconds=30, limit=1)
        async with session_scope(h.sessionmaker) as session:
            await runs.start_run(session, job=job, worker="dead-worker", now=now)
        async with h.sessionmaker() as session:
            before_expiry = await leases.claim_due(
                session,
                worker="w2",
                now=now + timedelta(seconds=29),
                lease_seconds=30,
                limit=10,
                resource="repositories",
            )
        assert before_expiry == []
        later = now + timedelta(seconds=31)
        async with h.sessionmaker() as session:
            [taken] = await leases.claim_due(
                session, worker="w2", now=later, lease_seconds=30, limit=10, resource="repositories"
            )
        assert taken.id == job.id
        [dead] = await h.all(SyncRun)
        assert dead.status == "FAILED" and "dead-worker" in dead.error
        # the dead worker waking up late must not release the new owner's lease
        async with session_scope(h.sessionmaker) as session:
            await runs.finish_run(
                session,
                job=job,
                run_id=dead.id,
                worker="dead-worker",
                now=later,
                duration=1,
                stats=RequestStats(),
                result=None,
                full=True,
                error="late",
            )
        [state] = await h.all(SyncState, SyncState.id == job.id)
        assert state.lease_owner == "w2"


async def test_leases_are_renewed_while_a_run_is_still_going(db_url: str) -> None:
    gate = asyncio.Event()
    mock = MockGitHub({"acme/web": 2})

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/pulls"):
            await gate.wait()
        return mock.handle(request)

    settings = {**SETTINGS, "github_repos": "acme/web", "sync_lease_seconds": 0.6}
    async with harness(db_url, httpx.MockTransport(slow), **settings) as h:
        cycle = asyncio.create_task(h.scheduler.run_cycle(tool="github", resource="pull_requests"))
        for _ in range(100):
            states = await h.all(SyncState, SyncState.resource == "pull_requests", SyncState.lease_owner.is_not(None))
            if states:
                break
            await asyncio.sleep(0.05)
        first = states[0].lease_expires_at
        await asyncio.sleep(0.9)  # longer than the lease: only renewal keeps it ours
        [state] = await h.all(SyncState, SyncState.id == states[0].id)
        assert state.lease_owner == h.scheduler.worker and state.lease_expires_at > first
        gate.set()
        assert all(r.ok for r in await cycle)


async def test_admin_overrides_in_tool_configs_switch_a_tool_off_and_change_its_interval(db_url: str) -> None:
    from hyperpage.tools.models import ToolConfig

    mock = MockGitHub({"acme/web": 2})
    async with harness(db_url, mock.transport, **SETTINGS) as h:
        await h.scheduler.prepare()
        now = utcnow()
        async with session_scope(h.sessionmaker) as session:
            session.add(ToolConfig(tool="github", enabled=False, interval_seconds=None, config={}, updated_at=now))
        async with h.sessionmaker() as session:
            assert await leases.claim_due(session, worker="w", now=now, lease_seconds=30, limit=10) == []
        async with session_scope(h.sessionmaker) as session:
            row = await session.get(ToolConfig, "github")
            row.enabled, row.interval_seconds = True, 900
        async with h.sessionmaker() as session:
            claimed = await leases.claim_due(session, worker="w", now=now, lease_seconds=30, limit=10)
        assert claimed
        by_resource = {job.resource: job.interval_seconds for job in claimed}
        assert by_resource["rate_limits"] == 900
        assert all(interval == 900 for resource, interval in by_resource.items() if resource != "repositories")
        assert by_resource.get("repositories", 0) != 900  # discovery keeps its own interval
