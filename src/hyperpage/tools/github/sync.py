"""GitHub resources: repositories, pull requests, Actions workflow runs, issues, rate limits.

Economy: list endpoints are asked sorted by update with the stored ETag, so an unchanged repository costs one
304 (free on GitHub). Pull requests have no `since` filter: paging stops at the high-water mark instead.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline, PipelineStatus
from hyperpage.reviews.models import PullRequest, ReviewState
from hyperpage.tools.base import (
    DEPLOYMENTS,
    INCIDENTS,
    ISSUES,
    PIPELINES,
    PULL_REQUEST_DETAILS,
    PULL_REQUESTS,
    RATE_LIMITS,
    REPOSITORIES,
    JobContext,
    JobResult,
    ToolDefinition,
    stable_since,
)
from hyperpage.tools.errors import NotFound
from hyperpage.tools.github import mappers
from hyperpage.tools.github.client import SLUG, connection_specs, make_client
from hyperpage.tools.github.deployments import sync_deployments
from hyperpage.tools.github.insights import sync_incidents, sync_pull_request_details
from hyperpage.tools.github.pager import pages
from hyperpage.tools.http import QuotaSample, parse_reset
from hyperpage.tools.models import Repository

AFFILIATION = "owner,collaborator,organization_member"


async def discover(ctx: JobContext) -> JobResult:
    """Repositories in scope: listed ones, every repo of `owner/*`, or by default those the token's user
    owns, collaborates on or sees as an organisation member (the original's `/user/repos`)."""
    found: dict[str, dict[str, Any]] = {}

    def keep(items: list[Any]) -> None:
        found.update(
            (row["external_id"], row) for row in ctx.map(mappers.repository, items, table=Repository.__table__)
        )

    async def collect(path: str, params: dict[str, Any]) -> None:
        async for page in pages(ctx, path, params, conditional=False):
            keep(page)

    if not ctx.spec.scopes:
        await collect("/user/repos", {"affiliation": AFFILIATION})

    # GitHub answers 404 (or 403 under an organisation's SAML enforcement) for a scope gone or out of reach
    async def visit(scope: str) -> None:
        owner, _, name = scope.partition("/")
        if name != "*":
            item = await ctx.get_json(f"/repos/{owner}/{name}", dict)
            keep([item])
            return
        try:
            await collect(f"/orgs/{owner}/repos", {"type": "all"})
        except NotFound:  # a user account, not an organisation
            await collect(f"/users/{owner}/repos", {"type": "all"})

    await ctx.each_scope(visit)
    ctx.result.discovered = list(found.values())
    return ctx.result


async def sync_pull_requests(ctx: JobContext) -> JobResult:
    params = {"state": "all", "sort": "updated", "direction": "desc"}
    mark = None if ctx.full else ctx.high_water_mark
    async for page in pages(ctx, f"/repos/{ctx.scope}/pulls", params):
        rows = ctx.map_scoped(mappers.pull_request, page, PullRequest.__table__)
        fresh = [r for r in rows if mark is None or r["updated_at"] >= mark]
        if ctx.settings.sync_github_merge_state:
            await _add_merge_states(ctx, fresh)
        await ctx.store(PullRequest.__table__, fresh)
        if len(fresh) < len(rows):
            break  # sorted newest first: the rest is older than the high-water mark, already stored
    return ctx.finish()


async def _add_merge_states(ctx: JobContext, rows: list[dict[str, Any]]) -> None:
    """`mergeable_state` (clean, dirty, blocked, behind, unstable, draft, unknown) is only in the single-PR
    payload. Only open pull requests that changed since the last run reach here, so the steady state
    costs nothing; the per-token semaphore bounds the burst."""

    async def one(row: dict[str, Any]) -> None:
        try:
            detail = await ctx.get_json(f"/repos/{ctx.scope}/pulls/{row['number']}", dict)
        except NotFound:  # closed and deleted meanwhile; the next run sees it
            return
        row["merge_state"] = detail.get("mergeable_state")

    await asyncio.gather(*(one(row) for row in rows if row["state"] == ReviewState.OPEN))


async def sync_workflow_runs(ctx: JobContext) -> JobResult:
    window_start = ctx.now - timedelta(days=ctx.settings.sync_pipelines_window_days)
    since = stable_since(
        window_start if ctx.full or ctx.high_water_mark is None else max(ctx.high_water_mark, window_start)
    )
    params = {"created": f">={since.strftime('%Y-%m-%dT%H:%M:%SZ')}"}
    oldest_unfinished = newest = None
    async for page in pages(ctx, f"/repos/{ctx.scope}/actions/runs", params, items_key="workflow_runs"):
        rows = ctx.map_scoped(mappers.workflow_run, page, Pipeline.__table__)
        await ctx.write(Pipeline.__table__, rows)
        for row in rows:
            newest = max(newest or row["created_at"], row["created_at"])
            if row["status"] != PipelineStatus.DONE:
                oldest_unfinished = min(oldest_unfinished or row["created_at"], row["created_at"])
    # Runs change status after creation; the next window starts at the oldest run still going.
    ctx.result.high_water_mark = oldest_unfinished or newest or ctx.high_water_mark
    return ctx.result


async def sync_issues(ctx: JobContext) -> JobResult:
    params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
    if not ctx.full and ctx.high_water_mark:
        params["since"] = stable_since(ctx.high_water_mark).strftime("%Y-%m-%dT%H:%M:%SZ")
    async for page in pages(ctx, f"/repos/{ctx.scope}/issues", params):
        # the list includes pull requests
        only_issues = [item for item in page if not (isinstance(item, dict) and "pull_request" in item)]
        rows = ctx.map_scoped(mappers.issue, only_issues, Issue.__table__, repo=ctx.scope)
        await ctx.store(Issue.__table__, rows)
    return ctx.finish()


async def sync_rate_limits(ctx: JobContext) -> JobResult:
    """`GET /rate_limit` does not count against the primary limit."""
    body = await ctx.get_json("/rate_limit", dict)
    resources = body.get("resources") or {}
    for name in ("core", "search", "graphql"):
        entry = resources.get(name)
        if isinstance(entry, dict) and "limit" in entry:
            ctx.client.samples[name] = QuotaSample(
                name, int(entry["limit"]), int(entry["remaining"]), parse_reset(str(entry.get("reset", "")))
            )
    return ctx.result


TOOL = ToolDefinition(
    slug=SLUG,
    resources=(
        REPOSITORIES,
        PULL_REQUESTS,
        PIPELINES,
        ISSUES,
        RATE_LIMITS,
        PULL_REQUEST_DETAILS,
        DEPLOYMENTS,
        INCIDENTS,
    ),
    scoped=frozenset({PULL_REQUESTS, PIPELINES, ISSUES, PULL_REQUEST_DETAILS, DEPLOYMENTS, INCIDENTS}),
    connection_specs=connection_specs,
    make_client=make_client,
    runners={
        REPOSITORIES: discover,
        PULL_REQUESTS: sync_pull_requests,
        PIPELINES: sync_workflow_runs,
        ISSUES: sync_issues,
        RATE_LIMITS: sync_rate_limits,
        PULL_REQUEST_DETAILS: sync_pull_request_details,
        DEPLOYMENTS: sync_deployments,
        INCIDENTS: sync_incidents,
    },
)
