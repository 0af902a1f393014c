"""GitHub sync through the real scheduler, runs and upserts, on SQLite and PostgreSQL.

Upstream shapes: https://docs.github.com/rest/pulls/pulls#list-pull-requests (pages linked by `Link`).
"""

from __future__ import annotations

import httpx

from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncRun, SyncState
from tests.sync.harness import harness
from tests.tools.mock_github import MockGitHub

TOKEN = "ghp_unit7test8token9value0abcdef"
GITHUB = {"enable_github": True, "github_token": TOKEN, "github_repos": "acme/web"}


def _pull_calls(mock: MockGitHub) -> list[httpx.Request]:
    return [c for c in mock.calls if c.url.path.endswith("/pulls")]


async def test_full_sync_follows_every_page_then_only_304s(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 250})
    async with harness(db_url, mock.transport, **GITHUB) as h:
        reports = await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert all(r.ok for r in reports), reports
        assert await h.count(PullRequest) == 250
        assert len(_pull_calls(mock)) == 3  # 100 + 100 + 50

        mock.calls.clear()
        quota_before = mock.remaining
        reports = await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        pulls = [r for r in reports if r.resource == "pull_requests"]
        assert [r.requests for r in pulls] == [1] and [r.not_modified for r in pulls] == [1]
        assert all(c.headers.get("if-none-match") for c in mock.calls)
        assert mock.remaining == quota_before  # a 304 costs no quota
        assert await h.count(PullRequest) == 250

        mock.touch(
            "acme/web",
            7,
            title="Renamed upstream",
            state="closed",
            merged_at="2026-10-20T10:00:00Z",
            closed_at="2026-10-20T10:00:00Z",
        )
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        [changed] = await h.all(PullRequest, PullRequest.number == 7)
        assert (changed.title, changed.state, changed.original_state) == ("Renamed upstream", "MERGED", "closed")


async def test_server_errors_are_retried_then_recorded_and_rows_stay(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 30})
    async with harness(db_url, mock.transport, **GITHUB) as h:
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert await h.count(PullRequest) == 30
        mock.faults = [lambda _r: httpx.Response(502, text="bad gateway")] * 10
        mock.calls.clear()
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert not report.ok and report.error.startswith("502")
        assert len(mock.calls) == 4  # 1 + 3 retries
        assert len(h.sleep.calls) == 3 and h.sleep.calls[0] < h.sleep.calls[2]
        assert await h.count(PullRequest) == 30
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        assert state.last_error.startswith("502") and state.consecutive_failures == 1
        assert state.high_water_mark is not None and state.lease_owner is None
        failed = await h.all(SyncRun, SyncRun.status == "FAILED")
        assert len(failed) == 1 and failed[0].requests_made == 4


async def test_malformed_json_fails_the_run_not_the_scheduler(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 5})
    async with harness(db_url, mock.transport, **GITHUB) as h:
        await h.scheduler.run_cycle(tool="github")
        mock.faults = [
            lambda r: (
                httpx.Response(200, text="{not json", headers={"content-type": "application/json"})
                if r.url.path.endswith("/pulls")
                else None
            )
        ]
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        mark = state.high_water_mark
        async with h.sessionmaker() as session:
            s = await session.get(SyncState, state.id)
            s.etag = None  # force a full response
            await session.commit()
        reports = await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        [bad] = [r for r in reports if r.resource == "pull_requests"]
        assert not bad.ok and "malformed JSON" in bad.error
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        assert state.high_water_mark == mark  # not advanced by a failed run
        assert await h.count(PullRequest) == 5
        reports = await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert all(r.ok for r in reports)


async def test_rate_limit_job_stores_core_search_graphql(db_url: str) -> None:
    from hyperpage.rate_limits.models import RateLimitSample

    mock = MockGitHub({"acme/web": 1})
    async with harness(db_url, mock.transport, **GITHUB) as h:
        reports = await h.scheduler.run_cycle(tool="github", resource="rate_limits")
        assert all(r.ok for r in reports)
        samples = {s.resource: s for s in await h.all(RateLimitSample)}
        assert {"core", "search", "graphql"} <= set(samples)
        assert (samples["search"].limit, samples["search"].remaining) == (30, 18)
