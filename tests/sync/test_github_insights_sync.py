"""The insights' GitHub sync against the fake upstream, on both engines: pull-request details through GraphQL
(paging, high-water mark, errors that keep stored rows), deployments with their statuses and compare ranges,
incidents from labelled issues."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update

from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from hyperpage.demo.world import PullRequest as FakePR
from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncRun, SyncState
from hyperpage.sync.scheduler import RunReport
from tests.sync.harness import Harness, harness

BASE = "http://fake.test"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    yield FakeUpstream(
        FakeUpstreamConfig(repos=2, prs_per_repo=12, big_repo_prs=250, issues_per_repo=10, runs_per_repo=2)
    )


def settings(up: FakeUpstream, repo: int = 0, **more: object) -> dict[str, object]:
    return {
        "enable_github": True,
        "github_token": DEMO_GITHUB_TOKEN,
        "github_api_url": f"{BASE}/github",
        "github_repos": up.world.repos[repo].full_name,
        "sync_github_merge_state": False,
        "sync_insights": True,
        **more,
    }


async def run(h: Harness, resource: str) -> RunReport:
    [report] = [r for r in await h.scheduler.run_cycle(tool="github", resource=resource) if r.resource == resource]
    return report


def expected_first_review(pr: FakePR) -> tuple[str | None, object]:
    """From first principles: the earliest review by a person other than the author, bots left out."""
    people = [r for r in pr.reviews if r.user is not None and r.user != pr.user and r.bot_login is None]
    first = min(people, key=lambda r: r.submitted_at, default=None)
    return (None, None) if first is None else (first.user, first.submitted_at)


async def test_details_of_250_pull_requests_in_3_graphql_pages_then_one_request(
    db_url: str, upstream: FakeUpstream
) -> None:
    repo = upstream.world.repos[0]
    world = {p.id: p for p in upstream.world.pulls if p.repo is repo}
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **settings(upstream, 0)) as h:
        assert (await run(h, "pull_requests")).ok
        report = await run(h, "pull_request_details")
        assert report.ok and report.requests == 5 and report.items == 250  # 250 / 50 per page
        assert upstream.count("github", route="/graphql") == 5
        by_id = {pr.id: pr for pr in await h.all(PullRequest)}
        timelines = await h.all(PullRequestTimeline)
        assert len(timelines) == 250
        people = {p.login: p.index for p in upstream.world.people}
        for row in timelines:
            fake = world[int(by_id[row.pull_request_id].external_id)]
            reviewer, at = expected_first_review(fake)
            assert (people.get(row.first_reviewer or ""), row.first_review_at) == (reviewer, at)
            assert row.merge_commit_sha == fake.merge_sha and row.first_commit_at == fake.first_commit_at
            ready = [t for kind, t in fake.timeline if kind == "ReadyForReviewEvent"]
            assert row.ready_for_review_at == (None if fake.draft else max(ready, default=fake.created_at))
            reverted = fake.body.removeprefix(f"Reverts {repo.full_name}#")
            assert row.reverts_number == (int(reverted) if reverted.isdigit() else None)
        assert any(row.reverts_number for row in timelines) and any(row.first_reviewer for row in timelines)
        reviews = await h.all(PullRequestReview)
        assert len(reviews) == sum(len(p.reviews) for p in world.values())
        assert any(r.reviewer_is_bot for r in reviews)
        [sample] = await h.all(RateLimitSample, RateLimitSample.resource == "graphql")
        assert sample.limit == 5000 and sample.remaining == 5000 - 5 * 2  # 2 points per page of 50

        steady = await run(h, "pull_request_details")
        assert steady.ok and steady.requests == 0  # no pull request changed: GraphQL is not asked at all

        pr = next(p for p in world.values() if p.state == "open")
        upstream.mutate("github.update_pr", repo=repo.full_name, number=pr.number, title="Changed upstream")
        assert (await run(h, "pull_requests")).ok
        changed = await run(h, "pull_request_details")
        # one page reaches the mark: the changed one, and those updated at the mark itself (read again, harmless)
        at_mark = sum(
            1 for p in world.values() if p.updated_at == max(q.updated_at for q in world.values() if q is not pr)
        )
        assert changed.ok and changed.requests == 1 and changed.items == 1 + at_mark


async def test_two_pages_and_pull_requests_not_stored_yet_are_fetched_again(
    db_url: str, upstream: FakeUpstream
) -> None:
    async with harness(
        db_url, httpx.ASGITransport(app=upstream.app()), **settings(upstream, 1, sync_github_graphql_page_size=10)
    ) as h:
        early = await run(h, "pull_request_details")  # before the REST sync stored the pull requests
        assert early.ok and early.requests == 2 and await h.count(PullRequestTimeline) == 0
        assert (await run(h, "pull_requests")).ok
        again = await run(h, "pull_request_details")  # the mark was held back: both pages again
        assert again.ok and again.requests == 2 and await h.count(PullRequestTimeline) == 12


async def test_pull_requests_the_rest_sync_has_not_stored_yet_get_their_details_later(
    db_url: str, upstream: FakeUpstream
) -> None:
    """The pull-request sync stores the newest page, then fails: the details of the older pull requests must
    not be skipped for good once the rest arrives (the mark is held back at the oldest one missing)."""
    fake = httpx.ASGITransport(app=upstream.app())
    cut = {"on": True}

    async def handler(request: httpx.Request) -> httpx.Response:
        if cut["on"] and request.url.path.endswith("/pulls") and request.url.params.get("page") == "2":
            return httpx.Response(404, json={"message": "Not Found"})
        return await fake.handle_async_request(request)

    async with harness(db_url, httpx.MockTransport(handler), **settings(upstream, 0)) as h:
        assert not (await run(h, "pull_requests")).ok and await h.count(PullRequest) == 100
        assert (await run(h, "pull_request_details")).ok and await h.count(PullRequestTimeline) == 100
        cut["on"] = False
        assert (await run(h, "pull_requests")).ok and await h.count(PullRequest) == 250
        assert (await run(h, "pull_request_details")).ok and await h.count(PullRequestTimeline) == 250


async def test_graphql_errors_keep_the_stored_rows(db_url: str, upstream: FakeUpstream) -> None:
    fake = httpx.ASGITransport(app=upstream.app())
    broken = {"on": False}

    async def handler(request: httpx.Request) -> httpx.Response:
        response = await fake.handle_async_request(request)
        if not (broken["on"] and request.url.path.endswith("/graphql")):
            return response
        await response.aread()
        body = json.loads(response.content)
        body["data"]["repository"]["pullRequests"]["nodes"][0]["reviews"] = None
        body["errors"] = [{"message": "Something went wrong while executing your query.", "path": ["reviews"]}]
        return httpx.Response(200, json=body, headers=dict(response.headers))

    async with harness(db_url, httpx.MockTransport(handler), **settings(upstream, 1)) as h:
        await run(h, "pull_requests")
        assert (await run(h, "pull_request_details")).ok
        stored = (await h.count(PullRequestTimeline), await h.count(PullRequestReview))
        assert stored[0] == 12

        repo = upstream.world.repos[1]
        pr = next(p for p in upstream.world.pulls if p.repo is repo)
        upstream.mutate("github.update_pr", repo=repo.full_name, number=pr.number, title="Changed upstream")
        await run(h, "pull_requests")  # a change, so the details job asks GraphQL
        broken["on"] = True  # partial data: what arrived is stored, the run is PARTIAL, nothing is deleted
        partial = await run(h, "pull_request_details")
        assert partial.ok and (await h.count(PullRequestTimeline), await h.count(PullRequestReview)) == stored
        [last] = await h.all(SyncRun, SyncRun.status == "PARTIAL")
        assert "GraphQL: Something went wrong" in (last.error or "")

        broken["on"] = False
        upstream.quota.set_remaining("github", DEMO_GITHUB_TOKEN, "graphql", 0)  # RATE_LIMITED in the body
        limited = await run(h, "pull_request_details")
        assert not limited.ok and "API rate limit exceeded" in (limited.error or "")
        assert (await h.count(PullRequestTimeline), await h.count(PullRequestReview)) == stored


async def test_deployments_statuses_and_the_commits_each_brought(db_url: str, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[0]
    fakes = sorted((d for d in upstream.world.deployments if d.repo is repo), key=lambda d: (d.created_at, d.id))
    history = [c.sha for c in upstream.world.commits[repo.id]]
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **settings(upstream, 0)) as h:
        report = await run(h, "deployments")
        assert report.ok, report.error
        rows = {int(d.external_id): d for d in await h.all(Deployment)}
        assert set(rows) == {d.id for d in fakes}
        commits: dict[int, set[str]] = {}
        for link in await h.all(DeploymentCommit):
            commits.setdefault(link.deployment_id, set()).add(link.sha)
        for environment in ("staging", "production"):
            chain = [d for d in fakes if d.environment == environment]
            first = rows[chain[0].id]
            assert not first.commits_known and first.id not in commits  # nothing before it to compare with
            for before, this in itertools.pairwise(chain):
                row = rows[this.id]
                lo, hi = history.index(before.sha), history.index(this.sha)
                assert row.commits_known and commits.get(row.id, set()) == set(history[lo + 1 : hi + 1])
                assert row.production == (environment == "production")
                final = this.statuses[-1].state
                expected = {"success": "SUCCESS", "failure": "FAILURE", "error": "FAILURE"}.get(final, "RUNNING")
                assert (row.status, row.original_status) == (expected, final)
        assert any(r.status == "FAILURE" for r in rows.values())
        running = sum(1 for r in rows.values() if r.status == "RUNNING")

        steady = await run(h, "deployments")  # list answers 304; running ones are read again
        assert steady.ok and steady.not_modified == 1 and steady.requests == 1 + running

        async with h.sessionmaker() as session:  # the daily full resync is due
            await session.execute(update(SyncState).values(last_full_sync_at=None))
            await session.commit()
        full = await run(h, "deployments")  # every page again, but no finished deployment's statuses
        assert full.ok and full.requests == math.ceil(len(fakes) / 100) + running and full.items == len(fakes)
        assert {(r.status, r.web_url) for r in await h.all(Deployment)} == {
            (r.status, r.web_url) for r in rows.values()
        }


async def test_production_environments_and_incidents_are_configurable(db_url: str, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[0]
    incidents = [i for i in upstream.world.gh_issues if i.repo is repo and "incident" in i.labels]
    assert incidents
    more = settings(upstream, 0, github_production_environments="Staging, production")
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **more) as h:
        assert (await run(h, "deployments")).ok and (await run(h, "incidents")).ok
        assert all(d.production for d in await h.all(Deployment))
        rows = {int(i.external_id): i for i in await h.all(Incident)}
        assert set(rows) == {i.id for i in incidents}
        for issue in incidents:
            row = rows[issue.id]
            assert (row.opened_at, row.resolved_at) == (issue.created_at, issue.closed_at)
            assert row.key == f"{repo.full_name}#{issue.number}"
    async with harness(
        db_url, httpx.ASGITransport(app=upstream.app()), **settings(upstream, 0, github_incident_labels="sev1")
    ) as h:
        assert (await run(h, "incidents")).ok
        assert {i.connection_id for i in await h.all(Incident)} == {rows[incidents[0].id].connection_id}


async def test_workflow_runs_are_deployments_only_where_the_deployments_api_has_none(db_url: str) -> None:
    up = FakeUpstream(FakeUpstreamConfig(repos=2, prs_per_repo=20, big_repo_prs=0, issues_per_repo=2, runs_per_repo=60))
    bare, other = up.world.repos
    up.world.deployments = [d for d in up.world.deployments if d.repo is not bare]
    history = up.world.commits[bare.id]
    deploys = sorted(
        (r for r in up.world.runs if r.repo is bare and r.name == "Deploy" and r.event != "pull_request"),
        key=lambda r: r.created_at,
    )
    assert len(deploys) >= 3
    for run_ in deploys:  # each deploy run builds the default branch as it was when it started
        run_.head_sha = next((c.sha for c in reversed(history) if c.authored_at <= run_.created_at), history[0].sha)
    repos = f"{bare.full_name},{other.full_name}"
    more = settings(up, 0, github_repos=repos, github_deployment_workflows="Deploy=production, Lint=lint")
    async with harness(db_url, httpx.ASGITransport(app=up.app()), **more) as h:
        reports = await h.scheduler.run_cycle(tool="github", resource="deployments")
        assert all(r.ok for r in reports if r.resource == "deployments"), [r.error for r in reports]
        rows = await h.all(Deployment, Deployment.source == "WORKFLOW_RUN")
        assert {r.external_id for r in rows} == {f"run:{r.id}" for r in deploys}  # Lint runs only on PRs
        assert all(r.production and r.environment == "production" for r in rows)
        by_id = {r.external_id: r for r in rows}
        for run_ in deploys:
            row = by_id[f"run:{run_.id}"]
            expected = {"success": "SUCCESS", None: "RUNNING"}.get(run_.conclusion, row.status)
            assert row.status == expected and row.sha == run_.head_sha
            assert row.status != "SUCCESS" or run_.conclusion == "success"
        ordered = sorted(rows, key=lambda r: (r.created_at, r.id))
        assert not ordered[0].commits_known and all(r.commits_known for r in ordered[1:])
        # the other repository has deployments in the API: its runs are not taken for deployments
        api_rows = await h.all(Deployment, Deployment.repository_id != ordered[0].repository_id)
        assert api_rows and {r.source for r in api_rows} == {"DEPLOYMENT"}
