"""Concurrency is observable (per-token in-flight peaks, GitHub's concurrent-request limit), counts stay exact
under parallel load on a real socket, and the demo's background activity changes data incrementally."""

from __future__ import annotations

import asyncio
import random

import httpx

from hyperpage.demo import FakeUpstream
from hyperpage.demo.mutations import tick
from hyperpage.demo.server import RunningFakeUpstream
from tests.demo.conftest import GH, GL, small_config


async def test_in_flight_peak_and_concurrency_limit_per_token() -> None:
    up = FakeUpstream(small_config(latency_seconds=0.05, github_max_concurrent=4))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=up.app()), base_url="http://f") as client:
        statuses = [
            r.status_code for r in await asyncio.gather(*(client.get("/github/user", headers=GH) for _ in range(6)))
        ]
        # Sequential requests never overlap.
        for _ in range(3):
            assert (await client.get("/gitlab/api/v4/user", headers=GL)).status_code == 200
        refused = await client.get("/github/user", headers=GH)
    assert sorted(statuses) == [200, 200, 200, 200, 403, 403]
    assert refused.status_code == 200
    peaks = up.snapshot()["max_in_flight"]
    # Four held by the latency, plus a refused one that may leave before the last arrives.
    assert 5 <= next(iter(peaks["github"].values())) <= 6
    assert list(peaks["gitlab"].values()) == [1]


def test_counts_are_exact_under_parallel_load_on_a_real_socket() -> None:
    with RunningFakeUpstream(small_config(latency_seconds=0.01)) as server:
        repo = server.upstream.world.repos[1].full_name

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=server.github_url, headers=GH, timeout=10) as client:
                responses = await asyncio.gather(
                    *(client.get(f"/repos/{repo}/pulls", params={"page": i % 3 + 1}) for i in range(60))
                )
                return [r.status_code for r in responses]

        assert asyncio.run(burst()) == [200] * 60
        assert server.upstream.count(service="github", route="/repos/{owner}/{repo}/pulls", status=200) == 60
        assert server.upstream.quota_of("github", GH["Authorization"].split()[1])["used"] == 60


async def test_search_beyond_the_first_1000_results_is_refused(fake: httpx.AsyncClient) -> None:
    response = await fake.get("/github/search/issues", headers=GH, params={"q": "is:pr", "page": 11, "per_page": 100})
    assert response.status_code == 422


async def test_group_projects_and_cross_project_scopes(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    group = upstream.world.groups[0]
    by_path = await fake.get(f"/gitlab/api/v4/groups/{group.path}/projects", headers=GL)
    by_id = await fake.get(f"/gitlab/api/v4/groups/{group.id}/projects", headers=GL)
    assert [p["id"] for p in by_path.json()] == [p["id"] for p in by_id.json()] != []
    everything = await fake.get("/gitlab/api/v4/issues", headers=GL, params={"scope": "all", "per_page": 100})
    mine = await fake.get("/gitlab/api/v4/issues", headers=GL, params={"per_page": 100})
    me = upstream.world.people[0].gitlab_id
    assert all(i["author"]["id"] == me for i in mine.json())
    assert len(everything.json()) == len(upstream.world.gl_issues) > len(mine.json())
    orgs = await fake.get(f"/github/orgs/{upstream.world.orgs[0].login}/repos", headers=GH)
    assert {r["owner"]["login"] for r in orgs.json()} == {upstream.world.orgs[0].login}


def test_background_activity_only_moves_time_forward() -> None:
    up = FakeUpstream(small_config())
    rng = random.Random(3)
    before = up.world.latest_update()
    results = [tick(up, rng) for _ in range(25)]
    assert all(results)
    assert up.world.latest_update() > before
    stamps = [r.get("updated_at") or r.get("updated") for r in results]
    assert stamps == sorted(stamps)  # each event lands after the previous one
