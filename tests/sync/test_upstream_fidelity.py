"""Shapes the real upstreams send that the fake did not (issue 15), through the scheduler on both engines.

Each test is built from a documented behaviour, cited where it is used; the payloads are our own.
"""

from __future__ import annotations

import json

import httpx
from prometheus_client import REGISTRY

from hyperpage.issues.models import Issue
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncReject, SyncRun, SyncState
from hyperpage.tools.models import Repository
from tests.sync.harness import harness
from tests.tools.mock_github import fixture

GITHUB = {
    "enable_github": True,
    "github_token": "ghp_unit7test8token9value0",
    "github_repos": "acme/web",
    "sync_github_merge_state": False,
}
GITLAB = {
    "enable_gitlab": True,
    "gitlab_token": "glpat-unit7test8value9",
    "gitlab_web_url": "https://gitlab.example.com",
}
JIRA = {
    "enable_jira": True,
    "jira_web_url": "https://acme.atlassian.net",
    "jira_email": "me@example.com",
    "jira_api_token": "jira-unit7test8token",
}
RUNAWAY = 40  # a handler answers at most this many list calls, so a looping pager ends the test, not the run


def _repo(full_name: str, repo_id: int = 1296269) -> dict:
    owner = full_name.split("/")[0]
    return {
        **fixture("github", "repo.json"),
        "id": repo_id,
        "full_name": full_name,
        "name": full_name.split("/")[1],
        "owner": {**fixture("github", "repo.json")["owner"], "login": owner},
    }


async def test_github_next_link_to_a_page_already_read_stops_the_run(db_url: str) -> None:
    # GitHub: "the link header ... rel=next" is followed verbatim
    # (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api); a server or proxy
    # answering every page with the first page's link must not make us page forever while holding the lease.
    pulls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/repos/acme/web":
            return httpx.Response(200, json=_repo("acme/web"))
        pulls.append(request)
        if len(pulls) > RUNAWAY:
            return httpx.Response(200, json=[])
        link = '<https://api.github.com/repositories/1296269/pulls?per_page=100&page=1>; rel="next"'
        return httpx.Response(200, json=[fixture("github", "pull.json")], headers={"Link": link})

    async with harness(db_url, httpx.MockTransport(handle), **GITHUB) as h:
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert len(pulls) <= 3, f"{len(pulls)} requests: the pager did not notice the loop"
        assert not report.ok and "already read" in (report.error or "")
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        assert "already read" in (state.last_error or "") and state.lease_owner is None
        assert await h.count(PullRequest) == 1  # the page read before the loop stays


async def test_gitlab_x_next_page_pointing_back_stops_the_run(db_url: str) -> None:
    # GitLab: X-Next-Page is "the index of the next page" (https://docs.gitlab.com/api/rest/#pagination);
    # a proxy that strips Link and answers X-Next-Page: 1 on page 1 would loop.
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v4")
        if path == "/projects/group%2Fapp" or path == "/projects/group/app":
            return httpx.Response(200, json=fixture("gitlab", "project.json"))
        if path.endswith("/merge_requests"):
            calls.append(request)
            if len(calls) > RUNAWAY:
                return httpx.Response(200, json=[])
            return httpx.Response(200, json=fixture("gitlab", "merge_requests.json"), headers={"X-Next-Page": "1"})
        return httpx.Response(200, json=[])

    async with harness(db_url, httpx.MockTransport(handle), **GITLAB, gitlab_projects="group/app") as h:
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="gitlab", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert len(calls) <= 3, f"{len(calls)} requests: the pager did not notice the loop"
        assert not report.ok and "already read" in (report.error or "")


async def test_a_77_character_issue_key_is_stored_on_both_engines(db_url: str) -> None:
    # GitHub allows repository names of up to 100 characters and logins of up to 39; a recorded key was 77.
    full_name = "platform-engineering-guild/" + "service-catalogue-" + "x" * 26 + "-frontend"
    key = f"{full_name}#123456"
    assert len(key) >= 77

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/repos/{full_name}":
            return httpx.Response(200, json=_repo(full_name))
        if request.url.path == f"/repos/{full_name}/issues":
            item = {**fixture("github", "issues_with_pr.json")[0], "number": 123456}
            item.pop("pull_request", None)
            return httpx.Response(200, json=[item])
        return httpx.Response(200, json=[])

    async with harness(db_url, httpx.MockTransport(handle), **{**GITHUB, "github_repos": full_name}) as h:
        reports = await h.scheduler.run_cycle(tool="github", resource="issues")
        assert all(r.ok for r in reports), [r.error for r in reports]
        assert [i.key for i in await h.all(Issue)] == [key]


async def test_one_missing_repository_does_not_stop_discovery_of_the_others(db_url: str) -> None:
    # GitHub answers 404 for a repository that is gone or that the token may not see
    # (https://docs.github.com/rest/repos/repos#get-a-repository).
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/repos/acme/web":
            return httpx.Response(200, json=_repo("acme/web"))
        return httpx.Response(404, json={"message": "Not Found"})

    before = (
        REGISTRY.get_sample_value("hyperpage_sync_scopes_missing_total", {"tool": "github", "connection": "default"})
        or 0.0
    )
    async with harness(db_url, httpx.MockTransport(handle), **{**GITHUB, "github_repos": "acme/gone,acme/web"}) as h:
        [report] = await h.scheduler.run_cycle(tool="github", resource="repositories")
        assert report.ok and "acme/gone" in (report.error or "")
        assert [r.full_name for r in await h.all(Repository)] == ["acme/web"]
        assert await h.count(SyncState, SyncState.scope == "acme/web") == 3
        [state] = await h.all(SyncState, SyncState.resource == "repositories")
        assert "acme/gone" in (state.last_error or "") and state.last_success_at is not None
        [run] = await h.all(SyncRun)
        assert run.status == "PARTIAL"
    after = REGISTRY.get_sample_value(
        "hyperpage_sync_scopes_missing_total", {"tool": "github", "connection": "default"}
    )
    assert after == before + 1


async def test_one_missing_gitlab_project_does_not_stop_discovery(db_url: str) -> None:
    # GitLab: "404 Project Not Found" (https://docs.gitlab.com/api/projects/#get-a-single-project)
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.raw_path.decode().startswith("/api/v4/projects/group%2Fapp"):
            return httpx.Response(200, json=fixture("gitlab", "project.json"))
        return httpx.Response(404, json={"message": "404 Project Not Found"})

    async with harness(db_url, httpx.MockTransport(handle), **GITLAB, gitlab_projects="group/gone, group/app") as h:
        [report] = await h.scheduler.run_cycle(tool="gitlab", resource="repositories")
        assert report.ok and "group/gone" in (report.error or "")
        assert [r.full_name for r in await h.all(Repository)] == ["group/app"]


# Atlassian's documented example response of POST /rest/api/3/search/jql
# (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/): only the fields the
# example lists, no `created`, no `summary`, no `status`, and `updated` as a number.
ATLASSIAN_EXAMPLE = {
    "expand": "",
    "id": "10002",
    "key": "ED-1",
    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10002",
    "fields": {
        "watcher": {
            "isWatching": False,
            "watchCount": 1,
            "self": "https://your-domain.atlassian.net/rest/api/3/issue/EX-1/watchers",
        },
        "sub-tasks": [],
        "project": {"id": "10000", "key": "EX", "name": "Example"},
        "updated": 1,
    },
}


async def test_an_unmappable_item_is_kept_aside_and_the_rest_is_stored(db_url: str) -> None:
    good = fixture("jira", "search_page1.json")["issues"][0]

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issues": [good, ATLASSIAN_EXAMPLE], "isLast": True})

    before = (
        REGISTRY.get_sample_value("hyperpage_sync_items_rejected_total", {"tool": "jira", "resource": "issues"}) or 0.0
    )
    async with harness(db_url, httpx.MockTransport(handle), **JIRA) as h:
        [report] = await h.scheduler.run_cycle(tool="jira")
        assert report.ok and "1 item" in (report.error or "")
        assert [i.key for i in await h.all(Issue)] == ["OPS-1"]
        [run] = await h.all(SyncRun)
        assert (run.status, run.items_upserted, run.items_rejected) == ("PARTIAL", 1, 1)
        [state] = await h.all(SyncState)
        assert state.high_water_mark is not None and state.last_success_at is not None
        assert "10002" in (state.last_error or "")
        [reject] = await h.all(SyncReject)
        assert (reject.external_id, reject.sync_state_id) == ("10002", state.id)
        assert json.loads(reject.payload)["key"] == "ED-1" and "created" in reject.reason
        await h.scheduler.run_cycle(tool="jira")  # the same bad item again: one reject row, seen twice
        [again] = await h.all(SyncReject)
        assert again.times_seen == 2
    after = REGISTRY.get_sample_value("hyperpage_sync_items_rejected_total", {"tool": "jira", "resource": "issues"})
    assert after == before + 2


async def test_links_to_another_origin_are_refused_and_no_token_leaves(db_url: str) -> None:
    # GitHub's Link URLs are absolute and followed verbatim; only the configured API origin may get the token.
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/repos/acme/web":
            return httpx.Response(200, json=_repo("acme/web"))
        if request.url.host != "api.github.com":
            return httpx.Response(200, json=[])
        link = '<https://collector.example.net/repos/acme/web/pulls?page=2>; rel="next"'
        return httpx.Response(200, json=[fixture("github", "pull.json")], headers={"Link": link})

    async with harness(db_url, httpx.MockTransport(handle), **GITHUB) as h:
        [report] = [
            r
            for r in await h.scheduler.run_cycle(tool="github", resource="pull_requests")
            if r.resource == "pull_requests"
        ]
        assert {r.url.host for r in seen} == {"api.github.com"}
        assert not report.ok and "collector.example.net" in (report.error or "")
        assert await h.count(PullRequest) == 1


async def test_a_value_longer_than_its_column_is_rejected_alike_on_both_engines(db_url: str) -> None:
    # GitLab nests groups up to 20 levels, each path up to 255 characters, so a full reference can outgrow
    # issues.key (1000): PostgreSQL would refuse the whole page, SQLite store it; both now reject that item.
    issues = fixture("gitlab", "issues.json")
    too_long = {**issues[0], "id": 999, "references": {"full": "group/" * 200 + "app#1"}}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v4")
        if path.endswith("/issues"):
            return httpx.Response(200, json=[too_long, issues[1]])
        if path.startswith("/projects/group"):
            return httpx.Response(200, json=fixture("gitlab", "project.json"))
        return httpx.Response(200, json=[])

    async with harness(db_url, httpx.MockTransport(handle), **GITLAB, gitlab_projects="group/app") as h:
        reports = [r for r in await h.scheduler.run_cycle(tool="gitlab") if r.resource == "issues"]
        assert [r.ok for r in reports] == [True] and "longer than the 1000" in (reports[0].error or "")
        assert await h.count(Issue) == 1
        assert [r.external_id for r in await h.all(SyncReject)] == ["999"]
