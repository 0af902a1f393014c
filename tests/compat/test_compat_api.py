"""The original portal's routes answer in the original's shapes, from our database."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f


async def _seed(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gl, full_name="acme/api")
        await f.add_pull_request(s, connection=gh, repository=web, number=12, title="GH open")
        await f.add_pull_request(
            s, connection=gh, repository=web, number=13, title="GH merged", state="MERGED", original_state="closed"
        )
        await f.add_pull_request(s, connection=gl, repository=api, number=5, title="GL open", original_state="opened")
        await f.add_pipeline(s, connection=gh, repository=web, ref="main", original_result="success")
        await f.add_pipeline(
            s,
            connection=gl,
            repository=api,
            ref="dev",
            result="FAILURE",
            original_result="failed",
            duration_seconds=61.0,
        )
        await f.add_pipeline(
            s,
            connection=gl,
            repository=api,
            ref="dev",
            status="IN_PROGRESS",
            result=None,
            original_status="running",
            original_result=None,
            finished_at=None,
            duration_seconds=None,
        )
        await f.add_issue(
            s, connection=gl, repository=api, key="#3", title="GL issue", assignee=None, original_status="opened"
        )
        await f.add_rate_limit_sample(s, connection=gh, resource="core", limit=5000, remaining=400, observed_at=now)
        await f.add_rate_limit_sample(s, connection=gh, resource="search", limit=30, remaining=30, observed_at=now)
        await f.add_rate_limit_sample(
            s,
            connection=gl,
            resource="global",
            limit=2000,
            remaining=0,
            observed_at=now - timedelta(hours=1),
            reset_at=now + timedelta(seconds=90),
        )


async def test_enabled_tools_lists_tools_with_connections_and_their_aggregators(client, db_url) -> None:
    await _seed(db_url)
    body = (await client.get("/api/tools/enabled")).json()
    assert [t["slug"] for t in body["enabledTools"]] == ["github", "gitlab", "code-reviews", "ci-cd", "ticketing"]
    assert body["count"] == 5
    github = body["enabledTools"][0]
    assert github["capabilities"] == ["pull-requests", "workflows", "issues", "rate-limit"]
    assert github["widgets"][0]["apiEndpoint"] == "pull-requests" and github["widgets"][0]["refreshInterval"] == 300000
    assert {
        "tool": "GitHub",
        "endpoint": "workflows",
        "method": "GET",
        "url": "/api/tools/github/workflows",
    }.items() <= body["apis"][1].items()


async def test_tool_endpoints_return_the_original_row_shapes(client, db_url) -> None:
    await _seed(db_url)
    prs = (await client.get("/api/tools/github/pull-requests")).json()["pullRequests"]
    assert [p["id"] for p in prs] == ["#12"]
    assert set(prs[0]) == {"id", "title", "repository", "status", "tool", "created", "created_display", "type", "url"}
    assert prs[0]["tool"] == "GitHub" and prs[0]["type"] == "pull-request" and prs[0]["status"] == "open"
    mrs = (await client.get("/api/tools/gitlab/merge-requests")).json()["mergeRequests"]
    assert mrs[0]["id"] == "!5" and mrs[0]["project"] == "acme/api"
    combined = (await client.get("/api/tools/code-reviews/pull-requests")).json()["pullRequests"]
    assert {p["tool"] for p in combined} == {"GitHub", "GitLab"}
    runs = (await client.get("/api/tools/github/workflows")).json()["workflows"]
    assert set(runs[0]) == {
        "id",
        "repository",
        "name",
        "head_branch",
        "status",
        "conclusion",
        "created_at",
        "updated_at",
        "run_duration",
        "html_url",
    }
    pipes = (await client.get("/api/tools/ci-cd/pipelines", params={"status": "FAIL"})).json()["pipelines"]
    assert [(p["status"], p["duration"], p["tool"]) for p in pipes] == [("failed", "61s", "GitLab")]
    running = (await client.get("/api/tools/gitlab/pipelines")).json()["pipelines"][0]
    assert running["finished_at"] == "Running" and running["duration"] == "N/A"
    assert len((await client.get("/api/tools/ci-cd/pipelines", params={"limit": 1})).json()["pipelines"]) == 1
    tickets = (await client.get("/api/tools/ticketing/issues")).json()["issues"]
    assert tickets[0]["assignee"] == "Unassigned" and tickets[0]["type"] == "issue"
    expected = {"id", "ticket", "title", "status", "assignee", "tool", "url", "created", "created_display"}
    assert expected <= set(tickets[0])


async def test_tool_errors_use_the_original_codes(client, db_url) -> None:
    await _seed(db_url)
    cases = {
        "/api/tools/svn/commits": (404, "TOOL_NOT_FOUND"),
        "/api/tools/github/merge-requests": (404, "ENDPOINT_NOT_FOUND"),
        "/api/tools/jira/issues": (403, "TOOL_DISABLED"),
        "/api/rate-limit/bitbucket": (400, "PLATFORM_NOT_SUPPORTED"),
        "/api/tools/ci-cd/pipelines?limit=0": (422, "invalid_request"),
    }
    for path, (status, code) in cases.items():
        resp = await client.get(path)
        assert (resp.status_code, resp.json()["error"]["code"]) == (status, code), path
    assert "supportedPlatforms" in (await client.get("/api/rate-limit/x")).json()["error"]["details"][0]


async def test_rate_limit_platform_status_levels(client, db_url) -> None:
    await _seed(db_url)
    gh = (await client.get("/api/rate-limit/github")).json()
    assert gh["status"] == "critical" and gh["dataFresh"] is True  # core at 92 %
    core = gh["limits"]["github"]["core"]
    assert core == core | {"limit": 5000, "remaining": 400, "used": 4600, "usagePercent": 92.0}
    assert gh["limits"]["github"]["search"]["usagePercent"] == 0.0
    gl = (await client.get("/api/rate-limit/gitlab")).json()
    assert gl["dataFresh"] is False and gl["limits"]["gitlab"]["global"]["retryAfter"] > 0
    jira = (await client.get("/api/rate-limit/jira")).json()
    assert jira["status"] == "unknown" and jira["limits"] == {"jira": {}} and jira["lastUpdated"] is None
    via_tool = (await client.get("/api/tools/github/rate-limit")).json()
    assert via_tool["status"] == "critical"
