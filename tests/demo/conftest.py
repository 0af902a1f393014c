"""Fixtures for the fake upstream: an in-process app with a fixed anchor and a controllable clock."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from hyperpage.demo import FakeUpstream, FakeUpstreamConfig
from hyperpage.demo.config import DEMO_GITHUB_TOKEN, DEMO_GITLAB_TOKEN, DEMO_JIRA_API_TOKEN, DEMO_JIRA_EMAIL

ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GH = {"Authorization": f"Bearer {DEMO_GITHUB_TOKEN}", "Accept": "application/vnd.github+json"}
GL = {"PRIVATE-TOKEN": DEMO_GITLAB_TOKEN}
JIRA = {"Authorization": "Basic " + base64.b64encode(f"{DEMO_JIRA_EMAIL}:{DEMO_JIRA_API_TOKEN}".encode()).decode()}


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def small_config(**overrides: object) -> FakeUpstreamConfig:
    base = FakeUpstreamConfig(
        now=ANCHOR,
        repos=3,
        prs_per_repo=12,
        big_repo_prs=250,
        issues_per_repo=8,
        runs_per_repo=12,
        projects=2,
        mrs_per_project=45,
        pipelines_per_project=15,
        gitlab_issues_per_project=10,
        jira_projects=2,
        jira_issues_per_project=70,
    )
    return base.with_overrides(**overrides)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def upstream(clock: Clock) -> FakeUpstream:
    return FakeUpstream(small_config(), clock=clock)


@pytest.fixture
async def fake(upstream: FakeUpstream) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=upstream.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake.test") as client:
        yield client


async def follow(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: object
) -> list[httpx.Response]:
    """Every page by following rel="next", as a correct client does."""
    pages = [await client.get(url, headers=headers, params=params)]
    while (nxt := pages[-1].links.get("next")) is not None:
        assert len(pages) < 50, "pagination does not terminate"
        pages.append(await client.get(nxt["url"], headers=headers))
    return pages
