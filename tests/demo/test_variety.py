"""The fake serves the variety the real upstreams send (issue 15), and the mappers take every item of it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from hyperpage.demo import FakeUpstream
from hyperpage.tools.github import mappers as gh
from hyperpage.tools.gitlab import mappers as gl
from hyperpage.tools.jira import mappers as jira
from tests.demo.conftest import GH, GL, JIRA, follow

NOW = datetime(2026, 11, 1, tzinfo=UTC)
IDS = {"connection_id": 1, "repository_id": 1, "now": NOW}


async def test_github_long_names_action_required_runs_and_api_version_2026(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    longest = max(upstream.world.repos, key=lambda r: len(r.full_name))
    assert len(f"{longest.full_name}#1") >= 77
    runs = [
        run
        for repo in upstream.world.repos
        for page in await follow(fake, f"/github/repos/{repo.full_name}/actions/runs", GH, per_page=100)
        for run in page.json()["workflow_runs"]
    ]
    waiting = [r for r in runs if r["conclusion"] == "action_required"]
    assert waiting and all(r["updated_at"] < r["run_started_at"] for r in waiting)
    assert all(gh.workflow_run(r, **IDS)["duration_seconds"] is None for r in waiting)
    newer = {**GH, "X-GitHub-Api-Version": "2026-03-10"}
    pulls = [
        p
        for page in await follow(fake, f"/github/repos/{longest.full_name}/pulls", newer, state="all")
        for p in page.json()
    ]
    assert pulls and not any("merge_commit_sha" in p or "assignee" in p for p in pulls)
    assert all(gh.pull_request(p, **IDS)["external_id"] for p in pulls)


async def test_gitlab_merge_requests_of_older_gitlab_map(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    project = upstream.world.projects[0]
    pages = await follow(fake, f"/gitlab/api/v4/projects/{project.id}/merge_requests", GL, state="all", per_page=100)
    mrs = [mr for page in pages for mr in page.json()]
    old = [mr for mr in mrs if "draft" not in mr]
    assert old and all("reviewers" not in mr and "detailed_merge_status" not in mr for mr in old)
    rows = [gl.merge_request(mr, **IDS) for mr in old]
    assert all(row["merge_state"] == mr["merge_status"] for row, mr in zip(rows, old, strict=True))


async def test_jira_issues_without_optional_fields_and_with_no_category(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    issues: list[dict] = []
    for project in upstream.world.jira_projects:
        issues += await _search(fake, f"project = {project.key}")
    assert any("priority" not in i["fields"] and "assignee" not in i["fields"] for i in issues)
    undefined = [i for i in issues if i["fields"]["status"]["statusCategory"]["key"] == "undefined"]
    assert undefined
    rows = [jira.issue(i, connection_id=1, web_url="https://acme.atlassian.net", now=NOW) for i in issues]
    assert len(rows) == len(issues)
    assert {jira.issue(i, connection_id=1, web_url="x", now=NOW)["status_category"] for i in undefined} == {"TODO"}


async def _search(fake: httpx.AsyncClient, jql: str) -> list[dict]:
    issues: list[dict] = []
    body: dict = {"jql": jql, "maxResults": 100, "fields": jira.FIELDS}
    while True:
        data = (await fake.post("/jira/rest/api/3/search/jql", headers=JIRA, json=body)).json()
        issues += data["issues"]
        if data.get("isLast"):
            break
        body["nextPageToken"] = data["nextPageToken"]
    return issues
