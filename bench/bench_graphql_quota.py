"""Quota spent to sync the pull-request details of the demo world: GraphQL (what the sync does) against REST.

GraphQL: the real sync (pull requests over REST, then their details through GraphQL) on SQLite against the
fake upstream in-process, at 50 and 100 pull requests per query; the points are what the fake charged to the
token's `graphql` quota (demo/accounting.py), computed as GitHub documents. REST: for every pull request of the
same world, GET pulls/{n}/commits + pulls/{n}/reviews + issues/{n}/timeline actually sent to the fake and
counted by the same accounting (core quota). Then a second details run after nothing changed.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx

from hyperpage.config import load_settings
from hyperpage.db import schema
from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from hyperpage.logging import configure_logging
from hyperpage.sync.scheduler import Scheduler
from hyperpage.tools.http import ClientPool

BASE = "http://fake.test"
HEADERS = {"Authorization": f"Bearer {DEMO_GITHUB_TOKEN}", "Accept": "application/vnd.github+json"}


def used(up: FakeUpstream, resource: str) -> int:
    return up.quota_of("github", DEMO_GITHUB_TOKEN, resource)["used"]


async def graphql_details(up: FakeUpstream, workdir: Path, page_size: int) -> tuple[int, int, int, int]:
    """(pull requests stored, GraphQL requests, points spent, points of a second run with nothing changed)."""
    url = f"sqlite:///{workdir / f'details-{page_size}.db'}"
    schema.upgrade(url)
    settings = load_settings(
        database_url=url,
        enable_github=True,
        github_token=DEMO_GITHUB_TOKEN,
        github_api_url=f"{BASE}/github",
        github_repos=",".join(r.full_name for r in up.world.repos),
        sync_github_merge_state=False,
        sync_github_graphql_page_size=page_size,
        log_level="WARNING",
    )
    configure_logging(settings)
    engine = create_engine(settings)
    pool = ClientPool(settings, transport=httpx.ASGITransport(app=up.app()))
    scheduler = Scheduler(settings=settings, sessionmaker=make_sessionmaker(engine), pool=pool)
    try:
        await scheduler.run_cycle(tool="github", resource="pull_requests")
        before = used(up, "graphql")
        reports = await scheduler.run_cycle(tool="github", resource="pull_request_details")
        details = [r for r in reports if r.resource == "pull_request_details"]
        assert all(r.ok for r in details), [r.error for r in details if not r.ok]
        spent = used(up, "graphql") - before
        before = used(up, "graphql")
        await scheduler.run_cycle(tool="github", resource="pull_request_details")
        return sum(r.items for r in details), sum(r.requests for r in details), spent, used(up, "graphql") - before
    finally:
        await pool.aclose()
        await engine.dispose()


async def rest_details(up: FakeUpstream) -> tuple[int, int]:
    """(requests sent, core quota spent) for the REST way: three listings per pull request, every page."""
    before = used(up, "core")
    sent = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=up.app()), base_url=BASE) as client:
        for pr in up.world.pulls:
            for path in (f"pulls/{pr.number}/commits", f"pulls/{pr.number}/reviews", f"issues/{pr.number}/timeline"):
                response = await client.get(
                    f"/github/repos/{pr.repo.full_name}/{path}", headers=HEADERS, params={"per_page": 100}
                )
                sent += 1
                while "next" in response.links:
                    response = await client.get(response.links["next"]["url"], headers=HEADERS)
                    sent += 1
                assert response.status_code == 200, (path, response.status_code)
    return sent, used(up, "core") - before


def main(_args: list[str]) -> None:
    up = FakeUpstream(FakeUpstreamConfig())  # the demo world `make run` serves
    prs = len(up.world.pulls)
    print(f"demo world: {len(up.world.repos)} repositories, {prs} pull requests")
    workdir = Path(tempfile.mkdtemp(prefix="hyperpage-bench-graphql-"))
    rest_requests, rest_spent = asyncio.run(rest_details(up))
    print(
        f"  REST (commits + reviews + timeline per PR): {rest_requests} requests, core quota spent {rest_spent}"
        f" = {rest_spent * 100 / prs:.1f} per 100 pull requests"
    )
    for page_size in (50, 100):
        stored, requests, spent, again = asyncio.run(graphql_details(up, workdir, page_size))
        assert stored == prs, (stored, prs)
        print(
            f"  GraphQL, {page_size:>3} PRs per query: {requests} queries, {spent} points"
            f" = {spent * 100 / prs:.2f} per 100 pull requests; {rest_spent / spent:.0f}x less quota than REST;"
            f" nothing changed: {again} points"
        )
