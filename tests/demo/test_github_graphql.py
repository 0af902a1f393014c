"""The fake's GraphQL endpoint: GitHub's schema executed over the world, GitHub's cost, its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from graphql import parse
from hyperpage.demo import FakeUpstream
from hyperpage.demo.github_graphql import query_cost
from hyperpage.tools.github.graphql import PULL_REQUEST_DETAILS
from tests.demo.conftest import GH, small_config


async def _post(fake: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await fake.post("/github/graphql", headers=GH, json={"query": query, "variables": variables})


def _cost(query: str, **variables: Any) -> int:
    document = parse(query)
    return query_cost(document, document.definitions[0], variables)  # type: ignore[arg-type]


def test_cost_is_githubs_documented_arithmetic() -> None:
    # GitHub's documented example: 1 (repositories) + 100 (issues of each) + 100 x 50 (labels of each issue)
    example = (
        "query { viewer { login repositories(first: 100) { edges { node { id issues(first: 50) { edges { node { "
        "id labels(first: 60) { edges { node { id name } } } } } } } } } } }"
    )
    assert _cost(example) == 51  # 5,101 requests / 100
    assert _cost("query { viewer { repositories(first: 50) { nodes { name } } } }") == 1  # 1 request, rounds to 0
    # the details query: 1 (pull requests) + 3 connections x 100 pull requests = 301 requests -> 3 points
    assert _cost(PULL_REQUEST_DETAILS, owner="o", name="r", first=100) == 3
    assert _cost(PULL_REQUEST_DETAILS, owner="o", name="r", first=50) == 2
    assert _cost("query { viewer { login } }") == 1  # at least one point


async def test_pull_request_details_page_by_page_newest_first(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[0]
    owner, name = repo.full_name.split("/")
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        response = await _post(fake, PULL_REQUEST_DETAILS, owner=owner, name=name, first=100, after=after)
        assert response.status_code == 200 and response.headers["x-ratelimit-resource"] == "graphql"
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["rateLimit"]["cost"] == 3
        assert int(response.headers["x-ratelimit-remaining"]) == body["data"]["rateLimit"]["remaining"]
        page = body["data"]["repository"]["pullRequests"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    world_prs = [p for p in upstream.world.pulls if p.repo is repo]
    assert len(seen) == len(world_prs) == 250
    assert [n["updatedAt"] for n in seen] == sorted((n["updatedAt"] for n in seen), reverse=True)
    assert upstream.quota.bucket("github", GH["Authorization"].split()[1], "graphql").used == 9  # 3 pages x 3
    by_number = {p.number: p for p in world_prs}
    reviewed = next(n for n in seen if any(r["author"]["__typename"] == "Bot" for r in n["reviews"]["nodes"]))
    pr = by_number[reviewed["number"]]
    assert reviewed["fullDatabaseId"] == str(pr.id)
    assert [r["fullDatabaseId"] for r in reviewed["reviews"]["nodes"]] == [str(r.id) for r in pr.reviews]
    merged = next(n for n in seen if n["mergeCommit"])
    assert merged["mergeCommit"]["oid"] == by_number[merged["number"]].merge_sha
    ready = next(n for n in seen if n["timelineItems"]["nodes"])
    assert ready["timelineItems"]["nodes"][-1]["__typename"] in ("ReadyForReviewEvent", "ConvertToDraftEvent")
    first = by_number[seen[0]["number"]]
    assert seen[0]["commits"]["nodes"][0]["commit"]["authoredDate"] == first.first_commit_at.strftime(  # type: ignore[union-attr]
        "%Y-%m-%dT%H:%M:%SZ"
    )


async def test_a_missing_repository_is_not_found_in_githubs_shape(fake: httpx.AsyncClient) -> None:
    response = await _post(fake, PULL_REQUEST_DETAILS, owner="nobody", name="nothing", first=50)
    body = response.json()
    assert response.status_code == 200 and body["data"]["repository"] is None
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["repository"]
    assert body["data"]["rateLimit"]["cost"] == 2


async def test_an_unknown_field_is_refused_before_anything_is_charged(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    response = await _post(fake, "query { viewer { loginName } }")
    body = response.json()
    assert response.status_code == 200 and "data" not in body
    assert "Cannot query field 'loginName' on type 'User'" in body["errors"][0]["message"]
    assert upstream.quota.bucket("github", GH["Authorization"].split()[1], "graphql").used == 0


async def test_too_many_records_and_a_spent_quota_answer_as_github_does(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    owner, name = upstream.world.repos[0].full_name.split("/")
    body = (await _post(fake, PULL_REQUEST_DETAILS, owner=owner, name=name, first=101)).json()
    assert "exceeds the `first` limit of 100 records" in body["errors"][0]["message"]
    upstream.quota.set_remaining("github", GH["Authorization"].split()[1], "graphql", 0)
    spent = await _post(fake, PULL_REQUEST_DETAILS, owner=owner, name=name, first=50)
    assert spent.status_code == 200 and spent.headers["x-ratelimit-remaining"] == "0"
    assert spent.json()["errors"][0]["type"] == "RATE_LIMITED"


async def test_without_the_schema_package_graphql_answers_501_naming_the_install_step(tmp_path: Path) -> None:
    up = FakeUpstream(small_config(github_graphql_schema=tmp_path / "missing"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=up.app()), base_url="http://fake.test") as fake:
        response = await _post(fake, "query { viewer { login } }")
        rest = await fake.get("/github/user", headers=GH)
    assert response.status_code == 501 and "make deps" in response.json()["message"]
    assert rest.status_code == 200  # REST goes on
