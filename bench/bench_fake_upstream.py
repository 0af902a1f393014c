"""Fake upstream: world generation time, and how fast it answers (so sync benchmarks know it is not the
bottleneck). Figures: seconds to generate the default and a 50-repository world; requests/s in-process for a
100-item GitHub PR page (the baseline), the same page as a 304, a GitLab MR page and a Jira search page; and
requests/s over a loopback socket with 16 concurrent clients."""

from __future__ import annotations

import asyncio
import time

import httpx
from tests.demo.conftest import GH, GL, JIRA

from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.generate import build_world
from hyperpage.demo.server import RunningFakeUpstream

REQUESTS = 300


def timed(build) -> float:
    started = time.perf_counter()
    build()
    return time.perf_counter() - started


async def rate(
    client: httpx.AsyncClient, method: str, url: str, count: int, concurrency: int = 1, **kwargs: object
) -> float:
    async def one() -> None:
        response = await client.request(method, url, **kwargs)
        if response.status_code not in (200, 304):
            raise RuntimeError(f"{url}: {response.status_code}")

    started = time.perf_counter()
    for _ in range(count // concurrency):
        await asyncio.gather(*(one() for _ in range(concurrency)))
    return (count // concurrency * concurrency) / (time.perf_counter() - started)


async def in_process(up: FakeUpstream) -> dict[str, float]:
    repo = up.world.repos[0].full_name
    project = up.world.projects[0].id
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=up.app()), base_url="http://bench") as client:
        url = f"/github/repos/{repo}/pulls"
        params = {"state": "all", "per_page": 100}
        etag = (await client.get(url, headers=GH, params=params)).headers["etag"]
        return {
            "github PR page (100 items)": await rate(client, "GET", url, REQUESTS, headers=GH, params=params),
            "github PR page, 304": await rate(
                client, "GET", url, REQUESTS, headers={**GH, "If-None-Match": etag}, params=params
            ),
            "gitlab MR page (100 items)": await rate(
                client,
                "GET",
                f"/gitlab/api/v4/projects/{project}/merge_requests",
                REQUESTS,
                headers=GL,
                params={"per_page": 100},
            ),
            "jira search page (50 issues)": await rate(
                client,
                "POST",
                "/jira/rest/api/3/search/jql",
                REQUESTS,
                headers=JIRA,
                json={"jql": "project = PAY", "fields": ["*all"]},
            ),
        }


async def over_socket(server: RunningFakeUpstream) -> float:
    repo = server.upstream.world.repos[1].full_name
    async with httpx.AsyncClient(base_url=server.github_url, headers=GH, timeout=30) as client:
        return await rate(client, "GET", f"/repos/{repo}/pulls", REQUESTS, concurrency=16, params={"state": "all"})


def main(args: list[str]) -> None:
    default = timed(lambda: build_world(FakeUpstreamConfig()))
    fifty = timed(lambda: build_world(FakeUpstreamConfig(repos=50, projects=10)))
    print(f"world generation: default {default * 1000:.0f} ms; 50 repositories + 10 projects {fifty * 1000:.0f} ms")
    figures = asyncio.run(in_process(FakeUpstream(FakeUpstreamConfig())))
    baseline = figures["github PR page (100 items)"]
    for label, value in figures.items():
        print(f"in-process {label:<30} {value:>8.0f} req/s  ({value / baseline:.2f}x the PR page)")
    with RunningFakeUpstream(FakeUpstreamConfig()) as server:
        socket_rate = asyncio.run(over_socket(server))
    print(f"loopback socket, 16 concurrent, 30-item PR page: {socket_rate:.0f} req/s")
