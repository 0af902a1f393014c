"""The sync against the fake upstream (real URL paths, headers, paging, ETags, quotas and faults), in-process.

These are the issue's "checked by" items: 250 PRs over 3 pages, 304s that spend no quota, a changed PR
arriving, 429 Retry-After, 5xx retries, malformed JSON, and the original's payload shapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.config import DEMO_GITHUB_TOKEN, DEMO_GITLAB_TOKEN, DEMO_JIRA_API_TOKEN, DEMO_JIRA_EMAIL
from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncState
from hyperpage.tools.models import Connection
from tests.sync.harness import harness

BASE = "http://fake.test"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    yield FakeUpstream(
        FakeUpstreamConfig(
            repos=3,
            prs_per_repo=12,
            big_repo_prs=250,
            issues_per_repo=15,
            runs_per_repo=12,
            projects=2,
            mrs_per_project=30,
            pipelines_per_project=20,
            jira_projects=2,
            jira_issues_per_project=40,
        )
    )


def transport(up: FakeUpstream) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=up.app())


def github(up: FakeUpstream, repo: str | None = None) -> dict[str, object]:
    return {
        "enable_github": True,
        "github_token": DEMO_GITHUB_TOKEN,
        "github_api_url": f"{BASE}/github",
        "github_repos": repo or up.world.repos[0].full_name,
    }


async def test_250_prs_over_3_pages_then_304s_without_quota_then_a_change(db_url: str, upstream: FakeUpstream) -> None:
    big = upstream.world.repos[0].full_name
    async with harness(db_url, transport(upstream), **github(upstream, big)) as h:
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        open_prs = [p for p in upstream.world.pulls if p.repo.full_name == big and p.state == "open"]
        # 3 list pages, plus one detail request per open pull request for its merge state
        assert report.ok and report.requests == 3 + len(open_prs) and report.items == 250
        assert await h.count(PullRequest) == 250
        merge_states = {p.merge_state for p in await h.all(PullRequest, PullRequest.state == "OPEN")}
        assert None not in merge_states and merge_states <= {p.mergeable_state for p in open_prs}

        quota = upstream.quota_of("github", DEMO_GITHUB_TOKEN)["remaining"]
        reports = await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        [steady] = [r for r in reports if r.resource == "pull_requests"]
        assert steady.ok and steady.requests == steady.not_modified == 1
        assert upstream.quota_of("github", DEMO_GITHUB_TOKEN)["remaining"] == quota

        pr = next(p for p in upstream.world.pulls if p.repo.full_name == big and p.state == "open")
        upstream.mutate("github.update_pr", repo=big, number=pr.number, title="Changed upstream", merge=True)
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        [row] = await h.all(PullRequest, PullRequest.number == pr.number)
        assert (row.title, row.state) == ("Changed upstream", "MERGED")


async def test_429_retry_after_delays_the_connection_then_succeeds(db_url: str, upstream: FakeUpstream) -> None:
    async with harness(db_url, transport(upstream), real_sleep=True, **github(upstream)) as h:
        await h.scheduler.run_cycle(tool="github", resource="repositories")
        upstream.add_fault("rate_limit", service="github", path="/repos/*/pulls", retry_after=2, count=1)
        started = time.monotonic()
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert time.monotonic() - started >= 2.0  # a lower bound: the connection really waited
        assert report.ok and report.requests >= 2
        assert upstream.count("github", status=429) == 1


async def test_server_errors_retried_then_recorded_rows_kept(db_url: str, upstream: FakeUpstream) -> None:
    async with harness(db_url, transport(upstream), **github(upstream)) as h:
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        stored = await h.count(PullRequest)
        assert stored > 0
        upstream.add_fault("server_error", service="github", path="/repos/*/pulls", count=None)
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert not report.ok and report.error.startswith("500") and report.requests == 4
        assert h.sleep.calls and all(b >= a / 2 for a, b in zip(h.sleep.calls, h.sleep.calls[1:], strict=False))
        assert await h.count(PullRequest) == stored
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        assert state.last_error.startswith("500")


async def test_malformed_json_fails_the_run_not_the_worker(db_url: str, upstream: FakeUpstream) -> None:
    async with harness(db_url, transport(upstream), **github(upstream)) as h:
        upstream.add_fault("malformed_json", service="github", path="/repos/*/issues", count=1)
        reports = await h.scheduler.run_cycle(tool="github")
        [bad] = [r for r in reports if r.resource == "issues"]
        assert not bad.ok and "malformed JSON" in bad.error
        assert all(r.ok for r in reports if r.resource != "issues")
        reports = await h.scheduler.run_cycle(tool="github", resource="issues")
        assert all(r.ok for r in reports)


async def test_original_payload_shapes(db_url: str, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[1]
    settings = {
        **github(upstream, repo.full_name),
        "enable_gitlab": True,
        "gitlab_token": DEMO_GITLAB_TOKEN,
        "gitlab_web_url": f"{BASE}/gitlab",
        "enable_jira": True,
        "jira_web_url": f"{BASE}/jira",
        "jira_email": DEMO_JIRA_EMAIL,
        "jira_api_token": DEMO_JIRA_API_TOKEN,
        "jira_jql": "order by key",
    }
    async with harness(db_url, transport(upstream), **settings) as h:
        reports = await h.scheduler.run_cycle()
        assert all(r.ok for r in reports), [(r.tool, r.resource, r.error) for r in reports if not r.ok]
        conns = {c.tool: c.id for c in await h.all(Connection)}
        # GitHub's issue list includes pull requests: only real issues are stored
        gh_issues = [i for i in upstream.world.gh_issues if i.repo is repo]
        assert await h.count(Issue, Issue.connection_id == conns["github"]) == len(gh_issues)
        # GitLab pipelines still running have no finished_at
        running = await h.all(Pipeline, Pipeline.connection_id == conns["gitlab"], Pipeline.status == "IN_PROGRESS")
        done = await h.all(Pipeline, Pipeline.connection_id == conns["gitlab"], Pipeline.status == "DONE")
        assert running and all(p.finished_at is None for p in running)
        assert done and all(p.finished_at is not None and p.result for p in done)
        # Jira Cloud issues (descriptions in ADF) all arrive, categories mapped
        jira = await h.all(Issue, Issue.connection_id == conns["jira"])
        assert len(jira) == len(upstream.world.jira_issues)
        assert {i.status_category for i in jira} <= {"TODO", "IN_PROGRESS", "DONE"} and len(
            {i.status_category for i in jira}
        ) > 1


async def test_steady_state_cycle_is_conditional_and_free(db_url: str, upstream: FakeUpstream) -> None:
    repos = ",".join(r.full_name for r in upstream.world.repos)
    async with harness(db_url, transport(upstream), **github(upstream, repos)) as h:
        first = await h.scheduler.run_cycle(tool="github")
        assert all(r.ok for r in first) and sum(r.items for r in first) > 0
        # The first incremental cycle moves issues and runs from the full URL to a `since` URL (one full
        # response each; pull requests, having no `since`, already answer 304). From then on: only 304s.
        second = await h.scheduler.run_cycle(tool="github")
        assert all(r.not_modified == 1 for r in second if r.resource == "pull_requests")
        quota = upstream.quota_of("github", DEMO_GITHUB_TOKEN)["remaining"]
        steady = [r for r in await h.scheduler.run_cycle(tool="github") if r.resource != "rate_limits"]
        assert {r.resource for r in steady} == {"pull_requests", "pipelines", "issues"}  # discovery not due
        assert all(r.ok and r.requests == r.not_modified == 1 and r.items == 0 for r in steady), steady
        assert upstream.quota_of("github", DEMO_GITHUB_TOKEN)["remaining"] == quota
