"""Sync economy and throughput against the fake upstream (a separate `hyperpage demo upstream` process).

Prints, for SQLite and PostgreSQL: the first full sync of 50 GitHub repositories (requests, items, items/s)
the first incremental cycle (issues and runs switch from the full URL to a `since` URL: one full response
each), and a steady-state cycle with nothing changed (requests, 304s, quota spent: the target is 0).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.processes import FakeUpstreamProcess
from tests.pg import PgCluster

from hyperpage.config import load_settings
from hyperpage.db import schema
from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from hyperpage.logging import configure_logging
from hyperpage.sync.scheduler import RunReport, Scheduler

REPOS = 50


def quota_charged(fake: FakeUpstreamProcess) -> int:
    charged = httpx.get(f"{fake.base}/_fake/stats").json()["quota_charged"]
    return int(charged.get("github", 0))


async def cycle(url: str, fake: FakeUpstreamProcess, repos: list[str]) -> tuple[list[RunReport], float]:
    settings = load_settings(
        database_url=url,
        enable_github=True,
        github_token=DEMO_GITHUB_TOKEN,
        github_api_url=f"{fake.base}/github",
        github_repos=",".join(repos),
        log_level="WARNING",
        sync_concurrent_jobs=8,
        sync_concurrency_per_token=8,
        sync_insights=False,  # the four list resources, as before; bench_graphql_quota measures the insights'
    )
    configure_logging(settings)  # warnings only: the per-run lines would drown the figures
    engine = create_engine(settings)
    scheduler = Scheduler(settings=settings, sessionmaker=make_sessionmaker(engine))
    try:
        started = time.perf_counter()
        reports = await scheduler.run_cycle(tool="github")
        return reports, time.perf_counter() - started
    finally:
        await scheduler.pool.aclose()
        await engine.dispose()


def describe(label: str, reports: list[RunReport], seconds: float, spent: int) -> None:
    failed = [r for r in reports if not r.ok]
    items = sum(r.items for r in reports)
    requests = sum(r.requests for r in reports)
    not_modified = sum(r.not_modified for r in reports)
    print(
        f"  {label:<22} jobs {len(reports):>4}  requests {requests:>4}  304s {not_modified:>4}"
        f"  quota spent {spent:>4}  items {items:>5}  {seconds:6.2f} s  {items / seconds:8.0f} items/s"
        + (f"  FAILED {len(failed)}: {failed[0].error}" if failed else "")
    )


def main(_args: list[str]) -> None:
    fake = FakeUpstreamProcess(
        "--repos",
        str(REPOS),
        "--big-repo-prs",
        "0",
        "--prs-per-repo",
        "30",
        "--runs-per-repo",
        "40",
        "--issues-per-repo",
        "20",
    )
    cluster = PgCluster.start()
    workdir = Path(tempfile.mkdtemp(prefix="hyperpage-bench-sync-"))
    try:
        repos = list(fake.world()["github"]["repos"])
        print(
            f"fake upstream: {len(repos)} GitHub repositories x (30 PRs, 40 workflow runs, 20 issues + PRs in "
            "the issue list); pull requests, runs, issues and rate limits synced"
        )
        targets = {"sqlite": f"sqlite:///{workdir / 'sync.db'}", "postgresql": cluster.url(cluster.create_database())}
        for name, url in targets.items():
            schema.upgrade(url)
            print(f"{name}:")
            before = quota_charged(fake)
            reports, seconds = asyncio.run(cycle(url, fake, repos))
            describe("first full sync", reports, seconds, quota_charged(fake) - before)
            before = quota_charged(fake)
            reports, seconds = asyncio.run(cycle(url, fake, repos))
            describe("first incremental", reports, seconds, quota_charged(fake) - before)
            before = quota_charged(fake)
            reports, seconds = asyncio.run(cycle(url, fake, repos))
            describe("steady-state cycle", reports, seconds, quota_charged(fake) - before)
            per_repo = sum(r.requests for r in reports) / len(repos)
            print(
                f"  steady state: {per_repo:.2f} requests per repository per cycle, all conditional "
                f"(target: quota spent = 0)"
            )
    finally:
        cluster.destroy()
        fake.stop()
