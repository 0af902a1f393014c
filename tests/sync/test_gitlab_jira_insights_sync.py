"""The insights' GitLab and Jira sync against the fake upstream, on both engines: merge-request details from the
commits and notes APIs, deployments with the commits each brought (repository compare), GitLab incidents
(issue_type incident or a configured label) and Jira incidents (issue type or label). Every expectation is
worked out from the generated world, not from what the sync stored."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import delete, update

from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.config import DEMO_GITLAB_TOKEN, DEMO_JIRA_API_TOKEN, DEMO_JIRA_EMAIL
from hyperpage.demo.world import MergeRequest
from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncState
from hyperpage.sync.scheduler import RunReport
from tests.sync.harness import Harness, harness

BASE = "http://fake.test"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    yield FakeUpstream(FakeUpstreamConfig(repos=1, prs_per_repo=2, projects=3, mrs_per_project=40, jira_projects=1))


def settings(up: FakeUpstream, **more: object) -> dict[str, object]:
    return {
        "enable_gitlab": True,
        "gitlab_token": DEMO_GITLAB_TOKEN,
        "gitlab_web_url": f"{BASE}/gitlab",
        "gitlab_projects": up.world.projects[0].path_with_namespace,
        "sync_insights": True,
        "sync_deployments_window_days": 3650,
        **more,
    }


async def run(h: Harness, tool: str, resource: str) -> RunReport:
    [report] = [r for r in await h.scheduler.run_cycle(tool=tool, resource=resource) if r.resource == resource]
    return report


def expected(mr: MergeRequest, logins: list[str]) -> tuple[object, object, object, object]:
    """From first principles: first commit, ready, and the earliest note by a person other than the author that
    is a comment or an approval (bots left out)."""
    ready = [n.created_at for n in mr.notes if n.system and "as **ready**" in n.body]
    reviews = [
        n
        for n in mr.notes
        if n.bot is None and n.author != mr.author and (not n.system or n.body == "approved this merge request")
    ]
    first = min(reviews, key=lambda n: (n.created_at, n.id), default=None)
    return (
        min(c.authored_at for c in mr.commits),
        max(ready, default=mr.created_at),
        first.created_at if first else None,
        logins[first.author] if first and first.author is not None else None,
    )


async def test_merge_request_details_deployments_and_incidents(db_url: str, upstream: FakeUpstream) -> None:
    world = upstream.world
    project = world.projects[0]
    logins = [p.login for p in world.people]
    merged = {m.id: m for m in world.mrs if m.project is project and m.merged_at}
    assert merged and any(n.bot for m in merged.values() for n in m.notes)
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **settings(upstream)) as h:
        early = await run(h, "gitlab", "pull_request_details")  # before the MR sync: nothing stored, mark held
        assert early.ok and await h.count(PullRequestTimeline) == 0
        assert (await run(h, "gitlab", "pull_requests")).ok
        details = await run(h, "gitlab", "pull_request_details")
        assert details.ok, details.error
        # one listing page, then commits + notes per merged merge request
        assert details.requests == 1 + 2 * len(merged)
        by_id = {pr.id: int(pr.external_id) for pr in await h.all(PullRequest)}
        rows = {by_id[t.pull_request_id]: t for t in await h.all(PullRequestTimeline)}
        assert set(rows) == set(merged)
        for mr_id, mr in merged.items():
            row = rows[mr_id]
            got = (row.first_commit_at, row.ready_for_review_at, row.first_review_at, row.first_reviewer)
            assert got == expected(mr, logins), mr.iid
            assert row.merge_commit_sha == mr.merge_commit_sha
        reviews = await h.all(PullRequestReview)
        assert any(r.reviewer_is_bot for r in reviews) and any(r.state == "APPROVED" for r in reviews)
        steady = await run(h, "gitlab", "pull_request_details")
        assert steady.ok and steady.requests == 0  # no merge request changed: GitLab is not asked at all
        mr = next(m for m in world.mrs if m.project is project and m.state == "opened" and not m.draft)
        upstream.mutate("gitlab.update_mr", project=str(project.id), iid=mr.iid, state="merged")
        assert (await run(h, "gitlab", "pull_requests")).ok
        changed = await run(h, "gitlab", "pull_request_details")
        # the listing, then the newly merged one only (those at the mark have details newer than their update)
        assert changed.ok and changed.requests == 1 + 2
        assert (await h.count(PullRequestTimeline)) == len(merged) + 1
        async with h.sessionmaker() as session:  # the daily full resync is due: one listing, no details again
            await session.execute(update(SyncState).values(last_full_sync_at=None))
            await session.commit()
        full = await run(h, "gitlab", "pull_request_details")
        # except the one merged moments ago: within CLOCK_SKEW of our last read, so read again
        assert full.ok and full.requests == 1 + 2 and full.items == 1

        assert (await run(h, "gitlab", "deployments")).ok
        fakes = sorted((d for d in world.gl_deployments if d.project is project), key=lambda d: (d.created_at, d.id))
        stored = {int(d.external_id): d for d in await h.all(Deployment)}
        assert set(stored) == {d.id for d in fakes}
        commits: dict[int, set[str]] = {}
        for link in await h.all(DeploymentCommit):
            commits.setdefault(link.deployment_id, set()).add(link.sha)
        history = [c.sha for c in world.gl_commits[project.id]]
        status = {"success": "SUCCESS", "failed": "FAILURE", "canceled": "CANCELLED", "running": "RUNNING"}
        for environment in ("staging", "production"):
            chain = [d for d in fakes if d.environment == environment]
            assert not stored[chain[0].id].commits_known
            for before, this in itertools.pairwise(chain):
                row = stored[this.id]
                lo, hi = history.index(before.sha), history.index(this.sha)
                assert row.commits_known and commits.get(row.id, set()) == set(history[lo + 1 : hi + 1])
                assert (row.production, row.status) == (environment == "production", status[this.status])
                assert row.finished_at == this.finished_at
        assert any(d.status == "FAILURE" for d in stored.values())

        assert (await run(h, "gitlab", "incidents")).ok
        incidents = [
            i
            for i in world.gl_issues
            if i.project is project and (i.issue_type == "incident" or "incident" in i.labels)
        ]
        assert any(i.issue_type == "incident" for i in incidents) and any(i.labels for i in incidents)
        rows_i = {int(i.external_id): i for i in await h.all(Incident)}
        assert set(rows_i) == {i.id for i in incidents}
        for issue in incidents:
            assert (rows_i[issue.id].opened_at, rows_i[issue.id].resolved_at) == (issue.created_at, issue.closed_at)


async def test_gitlab_production_environments_and_labels_are_configurable(db_url: str, upstream: FakeUpstream) -> None:
    project = upstream.world.projects[0]
    more = settings(upstream, gitlab_production_environments="Staging", gitlab_incident_labels="")
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **more) as h:
        assert (await run(h, "gitlab", "deployments")).ok and (await run(h, "gitlab", "incidents")).ok
        assert all(d.production for d in await h.all(Deployment))  # staging by name, production by its tier
        own = {i.id for i in upstream.world.gl_issues if i.project is project and i.issue_type == "incident"}
        assert {int(i.external_id) for i in await h.all(Incident)} == own  # labelled issues no longer count


async def test_jira_incidents_by_type_or_label(db_url: str, upstream: FakeUpstream) -> None:
    world = upstream.world
    typed = [i for i in world.jira_issues if i.issuetype == "Incident"]
    assert typed and any(i.resolutiondate is None and i.status[1] == "done" for i in typed)
    more = {
        "enable_jira": True,
        "jira_web_url": f"{BASE}/jira",
        "jira_email": DEMO_JIRA_EMAIL,
        "jira_api_token": DEMO_JIRA_API_TOKEN,
        "sync_insights": True,
    }
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **more) as h:
        assert (await run(h, "jira", "incidents")).ok
        rows = {int(i.external_id): i for i in await h.all(Incident)}
        assert set(rows) == {i.id for i in typed}
        for issue in typed:
            resolved = issue.resolutiondate or (issue.status_changed if issue.status[1] == "done" else None)
            row = rows[issue.id]
            assert (row.opened_at, row.resolved_at, row.repository_id, row.key) == (
                issue.created,
                resolved,
                None,
                issue.key,
            )
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **{**more, "sync_insights": False}) as h:
        await h.scheduler.run_cycle(tool="jira")  # SYNC_INSIGHTS=false: the incidents job goes, the rows stay
        assert await h.count(SyncState, SyncState.resource == "incidents") == 0
        assert await h.count(Incident) == len(typed)
    labelled = [i for i in world.jira_issues if "customer" in i.labels]
    assert labelled
    more |= {"jira_incident_issue_types": "", "jira_incident_labels": "customer"}
    async with harness(db_url, httpx.ASGITransport(app=upstream.app()), **more) as h:
        async with h.sessionmaker() as session:  # a first sync of the new lists, on an empty table
            await session.execute(delete(SyncState))
            await session.execute(delete(Incident))
            await session.commit()
        assert (await run(h, "jira", "incidents")).ok
        assert {int(i.external_id) for i in await h.all(Incident)} == {i.id for i in labelled}
