"""Insights queries over 100,000 pull requests and 10,000 deployments, on SQLite and PostgreSQL.

The world: 20 repositories, each with 500 production deployments (one every ~4 h 19 min over 90 days, 1 in 8
failed, the first with an unknown range) and 5,000 merged pull requests (timeline, one review for 9 in 10, the
merge commit in the range of the next deployment), plus 500 incidents. Rows go in with bulk inserts
(executemany). Printed per engine, median of RUNS: the same-run baseline (a plain COUNT(*) over pull_requests,
deployments and deployment_commits), the reports as they were computed before insights/changes.py (`before`, every
change as a ChangeRow), loading the rows of the default filter (queries.py), and the whole /dora and /cycle-time
reports (load + compute), with their ratio to the baseline and to `before`. Then the /insights page through the
app: a repeated view, and a burst of BURST concurrent views right after a write, each without the report memo
(HYPERPAGE_INSIGHTS_MEMO_ENTRIES=0: every view computes) and with it (insights/memo.py: one computes).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import select, text, true
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.pg import PgCluster

from bench.common import median
from hyperpage.config import load_settings, sync_url
from hyperpage.db import schema
from hyperpage.db.session import create_engine
from hyperpage.insights import metrics, queries, service
from hyperpage.insights.cycle import cycle_time, stage_rows
from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.insights.queries import Scope
from hyperpage.insights.rows import ChangeRow
from hyperpage.insights.schemas import InsightsQuery
from hyperpage.insights.stats import in_window, summarise, week_of
from hyperpage.main import create_app
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.models import Connection, Repository

REPOSITORIES, DEPLOYS_PER_REPO, PRS_PER_REPO, INCIDENTS = 20, 500, 5_000, 500
RUNS = 3
BURST = 8  # concurrent page views after a change
TIMES = (4, 5, 6, 7, 8)  # the datetime columns of a ChangeRow
TODAY = date(2026, 11, 30)
END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(days=90)


def rows() -> dict[Any, list[dict[str, Any]]]:
    now = END
    out: dict[Any, list[dict[str, Any]]] = {t: [] for t in (Repository, Deployment, DeploymentCommit, PullRequest)}
    out.update({PullRequestTimeline: [], PullRequestReview: [], Incident: []})
    step = (END - START) / DEPLOYS_PER_REPO
    pr_id = deploy_id = 0
    for r in range(1, REPOSITORIES + 1):
        out[Repository].append(
            {
                "id": r,
                "connection_id": 1,
                "external_id": str(r),
                "full_name": f"acme/repo-{r}",
                "archived": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        first_deploy = deploy_id + 1
        for k in range(DEPLOYS_PER_REPO):
            deploy_id += 1
            created = START + k * step
            out[Deployment].append(
                {
                    "id": deploy_id,
                    "connection_id": 1,
                    "repository_id": r,
                    "external_id": str(deploy_id),
                    "environment": "production",
                    "production": True,
                    "sha": f"d{deploy_id}",
                    "status": "FAILURE" if k % 8 == 7 else "SUCCESS",
                    "original_status": "x",
                    "source": "DEPLOYMENT",
                    "created_at": created,
                    "finished_at": created + timedelta(minutes=10),
                    "commits_known": k > 0,
                    "synced_at": now,
                }
            )
        for k in range(PRS_PER_REPO):
            pr_id += 1
            merged = START + (k + 0.5) * (END - START) / PRS_PER_REPO
            created = merged - timedelta(hours=20)
            out[PullRequest].append(
                {
                    "id": pr_id,
                    "connection_id": 1,
                    "repository_id": r,
                    "external_id": str(pr_id),
                    "number": k + 1,
                    "title": "change",
                    "state": "MERGED",
                    "original_state": "merged",
                    "draft": False,
                    "author": f"dev{k % 40}",
                    "requested_reviewers": [],
                    "labels": [],
                    "created_at": created,
                    "updated_at": merged,
                    "merged_at": merged,
                    "synced_at": now,
                }
            )
            reviewed = k % 10 != 0
            out[PullRequestTimeline].append(
                {
                    "pull_request_id": pr_id,
                    "first_commit_at": created - timedelta(hours=3),
                    "ready_for_review_at": created,
                    "first_review_at": created + timedelta(hours=2) if reviewed and k % 2 else None,
                    "merge_commit_sha": f"m{pr_id}",
                    "reverts_number": k - 3 if k % 97 == 0 and k > 3 else None,
                    "synced_at": now,
                }
            )
            if reviewed:
                out[PullRequestReview].append(
                    {
                        "pull_request_id": pr_id,
                        "external_id": str(pr_id),
                        "reviewer": "rev",
                        "reviewer_is_bot": False,
                        "state": "APPROVED",
                        "submitted_at": created + timedelta(hours=2),
                    }
                )
            following = int((merged - START) / step) + 1
            if following < DEPLOYS_PER_REPO:
                out[DeploymentCommit].append({"deployment_id": first_deploy + following, "sha": f"m{pr_id}"})
    for n in range(INCIDENTS):
        opened = START + n * (END - START) / INCIDENTS + timedelta(minutes=30)  # some after a deployment
        out[Incident].append(
            {
                "connection_id": 1,
                "repository_id": 1 + n % REPOSITORIES,
                "external_id": str(n),
                "key": f"#{n}",
                "title": "down",
                "opened_at": opened,
                "resolved_at": opened + timedelta(hours=2),
                "synced_at": now,
            }
        )
    return out


def seed(url: str, data: dict[Any, list[dict[str, Any]]]) -> None:
    engine = create_sync_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(
            Connection.__table__.insert(),
            [
                {
                    "id": 1,
                    "tool": "github",
                    "name": "gh",
                    "base_url": "https://x",
                    "scope": {},
                    "enabled": True,
                    "created_at": END,
                    "updated_at": END,
                }
            ],
        )
        for model, values in data.items():
            for i in range(0, len(values), 5_000):
                conn.execute(model.__table__.insert(), values[i : i + 5_000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    engine.dispose()


async def timed(step: Callable[[], Awaitable[Any]]) -> float:
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await step()
        runs.append(time.perf_counter() - started)
    return median(runs)


async def before(engine: AsyncEngine, scope: Scope, *, dora: bool) -> None:
    """The path the insights had before changes.py, kept here as the same-run baseline: every change near the
    window built as a ChangeRow with aware datetimes, every commit of the filter's ranges read and filtered in
    Python, then the definitions' functions (metrics.py, cycle.py) over them, as the tests' oracle runs them."""
    changes = [ChangeRow(*row) for row in await queries._rows(engine, queries._change_rows(true(), scope), times=TIMES)]
    wanted = {sha for c in changes for sha in (c.merge_commit_sha, c.reverts_sha) if sha is not None}
    pairs = select(DeploymentCommit.deployment_id, DeploymentCommit.sha).join(Deployment)
    commits: dict[int, set[str]] = defaultdict(set)
    for deployment_id, sha in await queries._rows(engine, pairs.where(queries._deployment_filter(scope))):
        if sha in wanted:
            commits[deployment_id].add(sha)
    deployments = [
        replace(d, commits=frozenset(commits[d.id])) for d in await queries.load_deployments(engine, scope, set())
    ]
    window = [c for c in changes if in_window(c.merged_at, scope.start, scope.end)]
    delivered = metrics.deliveries(metrics.streams(deployments))
    if dora:
        incidents = await queries.load_incidents(engine, scope)
        lead = metrics.lead_times(window, deployments, delivered)
        verdicts = metrics.judge(
            deployments, changes, incidents, start=scope.start, end=scope.end, incident_window=scope.incident_window
        )
        metrics.recovery(verdicts, deployments, incidents)
        by_week: dict[date, list[float]] = defaultdict(list)
        for c in window:
            if c.id in lead.by_change:
                by_week[week_of(c.merged_at)].append(lead.by_change[c.id])
        [summarise(values) for values in by_week.values()]
    else:
        rows = stage_rows(window, delivered)
        cycle_time(rows)
        weeks: dict[date, list[Any]] = defaultdict(list)
        for row in rows:
            weeks[week_of(row.change.merged_at)].append(row)
        [cycle_time(part) for part in weeks.values()]


async def measure(url: str) -> None:
    settings = load_settings(database_url=url, db_statement_timeout=0)
    engine = create_engine(settings)
    query = InsightsQuery()
    scope = service.scope_of(query, settings, TODAY)

    async def baseline() -> None:
        async with engine.connect() as conn:
            for table in ("pull_requests", "deployments", "deployment_commits"):
                await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))

    try:
        await baseline()  # warm the cache and the pool before anything is timed
        base = await timed(baseline)
        loaded = await service.load(engine, scope)
        results = {
            "baseline: COUNT(*) of the 3 tables": base,
            "before: /dora": await timed(lambda: before(engine, scope, dora=True)),
            "before: /cycle-time": await timed(lambda: before(engine, scope, dora=False)),
            "load the rows of the filter": await timed(lambda: service.load(engine, scope)),
            "/dora report (load + compute)": await timed(
                lambda: service.dora(engine, query=query, settings=settings, teams={}, today=TODAY)
            ),
            "/cycle-time report (load + compute)": await timed(
                lambda: service.cycle_time(engine, query=query, settings=settings, teams={}, today=TODAY)
            ),
        }
        print(
            f"  rows loaded: {len(loaded.changes)} change rows, {len(loaded.reverts)} reverts and reverted changes, "
            f"{len(loaded.deployments)} deployments, {len(loaded.incidents)} incidents"
        )
        for label, seconds in results.items():
            print(f"  {label:<40} {seconds * 1000:9.1f} ms   x{seconds / base:8.1f} of baseline")
        for name, old in (("/dora", "before: /dora"), ("/cycle-time", "before: /cycle-time")):
            print(f"  {name}: {results[old] / results[f'{name} report (load + compute)']:.1f}x as fast as before")
    finally:
        await engine.dispose()
    await measure_page(url)


@contextlib.asynccontextmanager
async def _app(url: str, memo_entries: int) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        database_url=url,
        db_statement_timeout=0,
        hyperpage_scheduler=False,
        log_level="WARNING",
        hyperpage_insights_memo_entries=memo_entries,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600) as http,
    ):
        while app.state.data_changes.version() is None:  # PostgreSQL: until LISTEN has heard its probe
            await asyncio.sleep(0.05)
        yield http


async def _write(http: httpx.AsyncClient) -> None:
    """A commit through the app's engine, as a sync makes: the data version moves."""
    async with http._transport.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(text("UPDATE repositories SET archived = archived WHERE id = 1"))


async def measure_page(url: str) -> None:
    params = {"to": TODAY.isoformat()}

    async def view(http: httpx.AsyncClient) -> int:
        return (await http.get("/insights", params=params)).status_code

    async def burst(http: httpx.AsyncClient) -> tuple[float, list[int]]:
        await _write(http)
        started = time.perf_counter()
        statuses = await asyncio.gather(*(view(http) for _ in range(BURST)))
        return time.perf_counter() - started, statuses

    results: dict[str, float] = {}
    for label, entries in (("without memo", 0), ("with memo", 32)):
        async with _app(url, entries) as http:
            assert await view(http) == 200  # warm: the pool, the templates, and (with the memo) this filter's reports
            results[f"/insights repeated view, {label}"] = await timed(functools.partial(view, http))
            seconds, statuses = await burst(http)
            results[f"/insights {BURST} concurrent views after a write, {label}"] = seconds
            # without the memo each view holds two pooled connections for seconds: PostgreSQL's pool (5 + 5)
            # runs out and the late views answer 503 after the pool timeout
            print(f"  {label}: the burst's answers {sorted(statuses)}")
    for label, seconds in results.items():
        print(f"  {label:<55} {seconds * 1000:9.1f} ms")
    for kind in ("repeated view", f"{BURST} concurrent views after a write"):
        ratio = results[f"/insights {kind}, without memo"] / results[f"/insights {kind}, with memo"]
        print(f"  /insights {kind}: {ratio:.1f}x as fast with the memo")


def main(_args: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="hyperpage-bench-insights-"))
    cluster = PgCluster.start()
    try:
        data = rows()
        print(
            f"world: {REPOSITORIES} repositories, {len(data[Deployment])} deployments, {len(data[PullRequest])} "
            f"pull requests, {len(data[DeploymentCommit])} deployment commits, {len(data[PullRequestReview])} "
            f"reviews, {len(data[Incident])} incidents; default filter (last 90 days, production); median of {RUNS}"
        )
        urls = {
            "sqlite": f"sqlite:///{work / 'insights.db'}",
            "postgresql": cluster.url(cluster.create_database(prefix="insights")),
        }
        for name, url in urls.items():
            schema.upgrade(url)
            started = time.perf_counter()
            seed(url, data)
            print(f"{name}: seeded in {time.perf_counter() - started:.1f} s")
            asyncio.run(measure(url))
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
