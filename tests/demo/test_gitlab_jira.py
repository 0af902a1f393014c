"""The fake GitLab and Jira: GitLab offset pagination headers and RateLimit-*, Jira token paging and ADF."""

from __future__ import annotations

import math

import httpx

from hyperpage.demo import FakeUpstream
from tests.demo.conftest import GL, JIRA, follow, small_config


async def test_gitlab_merge_requests_follow_x_next_page(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    project = upstream.world.projects[0]
    encoded = project.path_with_namespace.replace("/", "%2F")
    url = f"/gitlab/api/v4/projects/{encoded}/merge_requests"
    seen: list[int] = []
    page = "1"
    while page:
        response = await fake.get(
            url,
            headers=GL,
            params={"state": "all", "order_by": "updated_at", "sort": "desc", "per_page": 20, "page": page},
        )
        assert response.headers["x-page"] == page and response.headers["x-per-page"] == "20"
        assert response.headers["x-total"] == "45" and response.headers["x-total-pages"] == "3"
        seen += [mr["iid"] for mr in response.json()]
        page = response.headers["x-next-page"]
    assert sorted(seen) == list(range(1, 46))
    linked = await follow(fake, url, GL, state="all", per_page=20)
    assert sum(len(p.json()) for p in linked) == 45
    assert list(linked[1].links) == ["prev", "next", "first", "last"]
    mr = linked[0].json()[0]
    assert {
        "iid",
        "project_id",
        "state",
        "draft",
        "reviewers",
        "author",
        "source_branch",
        "web_url",
        "detailed_merge_status",
    } <= set(mr)


async def test_gitlab_omits_totals_above_the_count_limit(upstream: FakeUpstream) -> None:
    big = FakeUpstream(small_config(gitlab_count_limit=40))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=big.app()), base_url="http://f") as client:
        response = await client.get(
            f"/gitlab/api/v4/projects/{big.world.projects[0].id}/merge_requests",
            headers=GL,
            params={"state": "all", "per_page": 20},
        )
    assert "x-total" not in response.headers and "x-total-pages" not in response.headers
    assert "last" not in response.links and response.headers["x-next-page"] == "2"


async def test_gitlab_pipelines_running_have_no_finish_and_lists_have_no_duration(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    project = upstream.world.projects[0]
    created = upstream.mutate("gitlab.add_pipeline", project=str(project.id), status="running")
    listed = await fake.get(
        f"/gitlab/api/v4/projects/{project.id}/pipelines",
        headers=GL,
        params={"order_by": "updated_at", "updated_after": "2026-10-01T00:00:00Z"},
    )
    assert listed.json()[0]["id"] == created["id"]
    assert all("duration" not in p and "finished_at" not in p for p in listed.json())
    single = (await fake.get(f"/gitlab/api/v4/projects/{project.id}/pipelines/{created['id']}", headers=GL)).json()
    assert single["status"] == "running" and single["started_at"] and single["finished_at"] is None
    assert single["duration"] is None
    done = next(p for p in upstream.world.pipelines if p.status == "success" and p.project is project)
    body = (await fake.get(f"/gitlab/api/v4/projects/{project.id}/pipelines/{done.id}", headers=GL)).json()
    assert isinstance(body["duration"], int) and body["finished_at"]


async def test_gitlab_quota_headers_429_and_auth(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    first = await fake.get("/gitlab/api/v4/user", headers=GL)
    second = await fake.get("/gitlab/api/v4/user", headers={"Authorization": f"Bearer {GL['PRIVATE-TOKEN']}"})
    assert int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    assert second.headers["ratelimit-observed"] == "2" and second.headers["ratelimit-limit"] == "2000"
    upstream.set_quota("gitlab", GL["PRIVATE-TOKEN"], 0, "api")
    limited = await fake.get("/gitlab/api/v4/user", headers=GL)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.text == "Retry later\n"
    denied = await fake.get("/gitlab/api/v4/user", headers={"PRIVATE-TOKEN": "glpat-wrong"})
    assert denied.status_code == 401 and denied.json() == {"message": "401 Unauthorized"}


async def test_gitlab_etag_304(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    url = f"/gitlab/api/v4/projects/{upstream.world.projects[1].id}/issues"
    first = await fake.get(url, headers=GL, params={"state": "all"})
    again = await fake.get(url, headers={**GL, "If-None-Match": first.headers["etag"]}, params={"state": "all"})
    assert again.status_code == 304 and again.content == b""


async def test_jira_cloud_search_pages_with_next_page_token(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    jql = 'project in (PAY, OPS) AND updated >= "2026-09-01 00:00" ORDER BY updated DESC'
    keys: list[str] = []
    token = None
    pages = 0
    while True:
        body = {"jql": jql, "maxResults": 50, "fields": ["summary", "status", "description", "assignee", "updated"]}
        if token:
            body["nextPageToken"] = token
        response = await fake.post("/jira/rest/api/3/search/jql", headers=JIRA, json=body)
        data = response.json()
        pages += 1
        keys += [i["key"] for i in data["issues"]]
        if data["isLast"]:
            assert "nextPageToken" not in data
            break
        token = data["nextPageToken"]
    # both projects' issues, the Jira incidents of the gitlab-delivery section among them
    expected = sum(1 for i in upstream.world.jira_issues if i.project.key in ("PAY", "OPS"))
    assert pages == math.ceil(expected / 50) == 3 and len(keys) == len(set(keys)) == expected
    issue = data["issues"][0]
    assert issue["fields"]["description"]["type"] == "doc" and issue["fields"]["description"]["version"] == 1
    assert issue["fields"]["status"]["statusCategory"]["key"] in {"new", "indeterminate", "done"}
    bad = await fake.post("/jira/rest/api/3/search/jql", headers=JIRA, json={"jql": jql, "nextPageToken": "bogus"})
    assert bad.status_code == 400


async def test_jira_involves_me_and_data_center_search(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    jql = "assignee = currentUser() OR reporter = currentUser() OR watcher = currentUser() ORDER BY updated DESC"
    response = await fake.post(
        "/jira/rest/api/3/search/jql",
        headers=JIRA,
        json={"jql": jql, "maxResults": 100, "fields": ["assignee", "reporter"]},
    )
    mine = [i for i in upstream.world.jira_issues if 0 in (i.assignee, i.reporter) or 0 in i.watchers]
    assert len(response.json()["issues"]) == len(mine) > 0
    dc = await fake.post(
        "/jira/rest/api/2/search",
        headers={"Authorization": "Bearer fake-jira-personal-access-token"},
        json={"jql": "project = PAY", "startAt": 50, "maxResults": 50},
    )
    data = dc.json()
    pay = sum(1 for i in upstream.world.jira_issues if i.project.key == "PAY")
    assert data["total"] == pay > 50 and data["startAt"] == 50 and len(data["issues"]) == min(50, pay - 50)
    assert isinstance(data["issues"][0]["fields"]["description"], str)
    unbounded = await fake.post("/jira/rest/api/3/search/jql", headers=JIRA, json={"jql": "ORDER BY updated"})
    assert unbounded.status_code == 400 and "Unbounded" in unbounded.json()["errorMessages"][0]
    nobody = await fake.post("/jira/rest/api/3/search/jql", json={"jql": "project = PAY"})
    assert nobody.status_code == 401 and nobody.json()["errorMessages"]
    me = (await fake.get("/jira/rest/api/3/myself", headers=JIRA)).json()
    assert me["accountId"] == upstream.world.people[0].jira_account_id
