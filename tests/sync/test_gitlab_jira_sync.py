"""GitLab and Jira sync end to end through the scheduler with recorded-shape payloads, on both engines.

GitLab paging: https://docs.gitlab.com/api/rest/#pagination (X-Next-Page without Link here).
Jira Cloud: POST /rest/api/3/search/jql with nextPageToken; Data Center: POST /rest/api/2/search, startAt.
"""

from __future__ import annotations

import json

import httpx

from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.models import Repository
from tests.sync.harness import harness
from tests.tools.mock_github import fixture


def gitlab_handler(calls: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        path, params = request.url.path.removeprefix("/gitlab/api/v4"), request.url.params
        headers = {"ratelimit-limit": "2000", "ratelimit-remaining": "1990", "ratelimit-reset": "1800000000"}
        if path == "/projects":
            page = int(params.get("page", "1"))
            other = {**fixture("gitlab", "project.json"), "id": 4, "path_with_namespace": "group/other"}
            body = [fixture("gitlab", "project.json")] if page == 1 else [other]
            return httpx.Response(200, json=body, headers={**headers, "x-next-page": "2" if page == 1 else ""})
        if path.endswith("/merge_requests"):
            return httpx.Response(200, json=fixture("gitlab", "merge_requests.json"), headers=headers)
        if path.endswith("/pipelines"):
            return httpx.Response(200, json=fixture("gitlab", "pipelines.json"), headers=headers)
        if "/pipelines/" in path:
            return httpx.Response(200, json=fixture("gitlab", f"pipeline_{path.rsplit('/', 1)[1]}.json"))
        if path.endswith("/issues"):
            return httpx.Response(200, json=fixture("gitlab", "issues.json"), headers=headers)
        return httpx.Response(404, json={"message": "404 Not Found"})

    return handle


async def test_gitlab_projects_merge_requests_pipelines_issues(db_url: str) -> None:
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(gitlab_handler(calls))
    async with harness(
        db_url,
        transport,
        enable_gitlab=True,
        gitlab_token="glpat-unit7test8value9",
        gitlab_web_url="https://gitlab.example.com/gitlab",
    ) as h:
        reports = await h.scheduler.run_cycle(tool="gitlab")
        assert all(r.ok for r in reports), [r.error for r in reports if not r.ok]
        assert {r.full_name for r in await h.all(Repository)} == {"group/app", "group/other"}
        # project ids are unique per connection in real GitLab; the fixture reuses the same items for both
        assert await h.count(PullRequest) == 2 and await h.count(Issue) == 2
        running = (await h.all(Pipeline, Pipeline.external_id == "47"))[0]
        assert (running.status, running.finished_at, running.started_at is not None) == ("IN_PROGRESS", None, True)
        assert calls[0].headers["authorization"] == "Bearer glpat-unit7test8value9"
        assert any(c.url.params.get("page") == "2" for c in calls if c.url.path.endswith("/projects"))


def jira_handler(calls: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = json.loads(request.content)
        if request.url.path.endswith("/rest/api/3/search/jql"):
            name = "search_page2.json" if body.get("nextPageToken") == "CAEaAggD" else "search_page1.json"
            return httpx.Response(200, json=fixture("jira", name))
        if request.url.path.endswith("/rest/api/2/search"):
            page = fixture("jira", "search_datacenter.json")
            if body.get("startAt", 0) == 1:
                page = {**page, "startAt": 1, "issues": [{**page["issues"][0], "id": "20002", "key": "DC-8"}]}
            return httpx.Response(200, json=page)
        return httpx.Response(404)

    return handle


async def test_jira_cloud_follows_next_page_token_and_builds_incremental_jql(db_url: str) -> None:
    calls: list[httpx.Request] = []
    async with harness(
        db_url,
        httpx.MockTransport(jira_handler(calls)),
        enable_jira=True,
        jira_web_url="https://acme.atlassian.net",
        jira_email="me@example.com",
        jira_api_token="jira-unit7test8token",
    ) as h:
        reports = await h.scheduler.run_cycle(tool="jira")
        assert all(r.ok for r in reports) and len(calls) == 2
        assert {i.key for i in await h.all(Issue)} == {"OPS-1", "OPS-2"}
        first = json.loads(calls[0].content)
        assert first["jql"].startswith("(assignee = currentUser()") and "updated >=" not in first["jql"]
        assert calls[0].headers["authorization"].startswith("Basic ")
        calls.clear()
        await h.scheduler.run_cycle(tool="jira")
        assert "AND updated >= -" in json.loads(calls[0].content)["jql"]


async def test_jira_data_center_pages_with_start_at_and_a_bearer_token(db_url: str) -> None:
    calls: list[httpx.Request] = []
    async with harness(
        db_url,
        httpx.MockTransport(jira_handler(calls)),
        enable_jira=True,
        jira_web_url="https://jira.example.com",
        jira_api_token="dc-pat-unit7test8",
        jira_jql="project = DC ORDER BY created DESC",
    ) as h:
        reports = await h.scheduler.run_cycle(tool="jira")
        assert all(r.ok for r in reports) and len(calls) == 2
        assert calls[0].headers["authorization"] == "Bearer dc-pat-unit7test8"
        assert json.loads(calls[0].content)["jql"] == "(project = DC) ORDER BY updated ASC"
        assert {i.key for i in await h.all(Issue)} == {"DC-7", "DC-8"}


async def test_github_issue_lists_skip_pull_requests(db_url: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/repos/acme/web":
            return httpx.Response(200, json=fixture("github", "repo.json"))
        if request.url.path == "/repos/acme/web/issues":
            return httpx.Response(200, json=fixture("github", "issues_with_pr.json"))
        return httpx.Response(404, json={"message": "Not Found"})

    async with harness(
        db_url, httpx.MockTransport(handle), enable_github=True, github_token="ghp_unit7test8", github_repos="acme/web"
    ) as h:
        reports = await h.scheduler.run_cycle(tool="github", resource="issues")
        assert all(r.ok for r in reports), reports
        assert sorted(i.key for i in await h.all(Issue)) == ["acme/web#1347", "acme/web#1349"]
