"""GET /api/v1/issues on SQLite and PostgreSQL."""

from __future__ import annotations

from tests import factories as f


async def _seed(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        jira = await f.add_connection(s, tool="jira", name="jira")
        gh = await f.add_connection(s, tool="github", name="gh")
        proj = await f.add_repository(s, connection=jira, full_name="PROJ")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        await f.add_issue(
            s,
            connection=jira,
            repository=proj,
            key="PROJ-1",
            title="Login fails on Safari",
            assignee="bob",
            labels=["bug", "frontend"],
        )
        await f.add_issue(
            s,
            connection=jira,
            repository=proj,
            key="PROJ-2",
            title="Quarterly report",
            assignee="alice",
            status_category="IN_PROGRESS",
            original_status="In Progress",
        )
        await f.add_issue(
            s,
            connection=gh,
            repository=web,
            key="#7",
            title="Docs typo",
            assignee=None,
            status_category="DONE",
            original_status="closed",
            labels=["docs"],
        )


async def _keys(client, **params) -> list[str]:
    resp = await client.get("/api/v1/issues", params=params)
    assert resp.status_code == 200, resp.text
    return [i["key"] for i in resp.json()["items"]]


async def test_issue_filters_search_and_paging(client, db_url) -> None:
    await _seed(db_url)
    assert await _keys(client) == ["#7", "PROJ-2", "PROJ-1"]
    assert await _keys(client, tool="jira") == ["PROJ-2", "PROJ-1"]
    assert await _keys(client, status_category="in_progress") == ["PROJ-2"]
    assert await _keys(client, assignee="bob") == ["PROJ-1"]
    assert await _keys(client, label="bug") == ["PROJ-1"]
    assert await _keys(client, label="bu") == []
    assert await _keys(client, repository="acme/web") == ["#7"]
    assert await _keys(client, q="proj-1") == ["PROJ-1"]
    assert await _keys(client, q="safari login") == ["PROJ-1"]
    assert await _keys(client, q="alice") == ["PROJ-2"]
    page1 = (await client.get("/api/v1/issues", params={"limit": 2, "sort": "updated_at"})).json()
    page2 = (
        await client.get("/api/v1/issues", params={"limit": 2, "sort": "updated_at", "cursor": page1["next_cursor"]})
    ).json()
    assert [i["key"] for i in page1["items"] + page2["items"]] == ["PROJ-1", "PROJ-2", "#7"]
    assert page2["next_cursor"] is None
    bad = await client.get("/api/v1/issues", params={"status_category": "BLOCKED"})
    assert bad.status_code == 422 and "status_category" in bad.json()["error"]["message"]
