"""Faults in each service's real format, the /_fake control plane, mutations, determinism, and the real server."""

from __future__ import annotations

import json

import httpx
import pytest

from hyperpage.demo import FakeUpstream
from hyperpage.demo.generate import build_world
from hyperpage.demo.server import RunningFakeUpstream
from tests.demo.conftest import GH, GL, JIRA, small_config


async def test_github_429_and_secondary_403_carry_the_documented_headers(fake: httpx.AsyncClient) -> None:
    await fake.post(
        "/_fake/faults", json={"kind": "rate_limit", "service": "github", "path": "/repos/*/pulls", "retry_after": 2}
    )
    url = "/github/repos/x/y/pulls"
    limited = await fake.get(url, headers=GH)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert "secondary rate limit" in limited.json()["message"]
    assert (await fake.get(url, headers=GH)).status_code == 404  # count=1: used up, the request goes through
    await fake.post(
        "/_fake/faults",
        json={"kind": "secondary_rate_limit", "service": "github", "mode": "remaining_zero", "retry_after": 30},
    )
    blocked = await fake.get("/github/user", headers=GH)
    assert blocked.status_code == 403 and blocked.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" not in blocked.headers
    assert blocked.json()["message"].startswith("You have exceeded a secondary rate limit")


async def test_500s_for_the_next_k_requests_then_recovery(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.add_fault("server_error", service="gitlab", count=3)
    statuses = [(await fake.get("/gitlab/api/v4/user", headers=GL)).status_code for _ in range(4)]
    assert statuses == [500, 500, 500, 200]
    assert upstream.count(service="gitlab", route="/user", status=500) == 3


async def test_gitlab_and_jira_429_faults(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.add_fault("rate_limit", service="gitlab", retry_after=7)
    gl = await fake.get("/gitlab/api/v4/projects", headers=GL)
    assert gl.status_code == 429 and gl.headers["retry-after"] == "7" and gl.headers["ratelimit-remaining"] == "0"
    upstream.add_fault("rate_limit", service="jira", retry_after=4)
    jira = await fake.post("/jira/rest/api/3/search/jql", headers=JIRA, json={"jql": "project = PAY"})
    assert jira.status_code == 429 and jira.headers["retry-after"] == "4"
    assert jira.headers["x-ratelimit-remaining"] == "0" and "x-ratelimit-reset" in jira.headers


async def test_malformed_json_fault(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.add_fault("malformed_json", service="github", path="/user")
    response = await fake.get("/github/user", headers=GH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_fault_validation_clear_stats_and_reset(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    assert (await fake.post("/_fake/faults", json={"kind": "meteor"})).status_code == 400
    await fake.post("/_fake/faults", json={"kind": "server_error", "count": None})
    assert (await fake.get("/github/user", headers=GH)).status_code == 500
    assert (await fake.post("/_fake/faults", json={"clear": True})).json() == {"cleared": 1}
    assert (await fake.get("/github/user", headers=GH)).status_code == 200
    stats = (await fake.get("/_fake/stats")).json()
    rows = {(r["route"], r["status"]): r["count"] for r in stats["requests"] if r["service"] == "github"}
    assert rows == {("/user", 500): 1, ("/user", 200): 1}
    assert GH["Authorization"].split()[1] not in json.dumps(stats)  # tokens are labelled, never shown
    upstream.mutate("jira.update_issue", key="PAY-1", summary="Changed")
    assert (await fake.post("/_fake/reset")).status_code == 200
    assert upstream.stats.count() == 0 and upstream.world.jira_issues[0].summary != "Changed"


async def test_mutations_are_seen_by_an_incremental_query(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    newest = upstream.world.latest_update()
    repo = upstream.world.repos[2]
    number = next(p.number for p in upstream.world.pulls if p.repo is repo and p.state == "open")
    result = (
        await fake.post(
            "/_fake/mutate", json={"op": "github.update_pr", "repo": repo.full_name, "number": number, "merge": True}
        )
    ).json()
    assert result["updated_at"] > newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    since = await fake.get(
        f"/github/repos/{repo.full_name}/issues", headers=GH, params={"state": "all", "since": result["updated_at"]}
    )
    assert [(i["number"], i["pull_request"]["merged_at"] is not None) for i in since.json()] == [(number, True)]
    jira = upstream.mutate("jira.update_issue", key="OPS-3", status="Done")
    found = await fake.post(
        "/jira/rest/api/3/search/jql",
        headers=JIRA,
        json={"jql": f'project = OPS AND updated >= "{jira["updated"][:16].replace("T", " ")}"', "fields": ["status"]},
    )
    assert [i["key"] for i in found.json()["issues"]] == ["OPS-3"]
    assert (await fake.post("/_fake/mutate", json={"op": "github.explode"})).status_code == 400


def test_the_world_is_a_function_of_the_seed() -> None:
    def fingerprint(seed: int) -> list[object]:
        w = build_world(small_config(seed=seed))
        return (
            [(p.repo.full_name, p.number, p.title, p.state, p.updated_at) for p in w.pulls]
            + [(i.key, i.summary, i.status) for i in w.jira_issues]
            + [(p.id, p.status) for p in w.pipelines]
        )

    assert fingerprint(7) == fingerprint(7)
    assert fingerprint(7) != fingerprint(8)
    # Sizes of one section do not reshuffle another.
    a, b = build_world(small_config(seed=7)), build_world(small_config(seed=7, jira_issues_per_project=5))
    assert [p.title for p in a.pulls] == [p.title for p in b.pulls]


def test_running_server_on_loopback_and_a_timeout_fault() -> None:
    with RunningFakeUpstream(small_config()) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.github_url, headers=GH, timeout=5) as client:
            assert client.get("/user").status_code == 200
            server.upstream.add_fault("timeout", service="github", path="/user", delay=1.0)
            with pytest.raises(httpx.ReadTimeout):
                client.get("/user", timeout=0.2)
        assert server.upstream.count(service="github", route="/user") >= 1
