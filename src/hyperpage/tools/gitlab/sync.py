"""GitLab resources: projects, merge requests, pipelines, issues (and the insights' jobs: insights.py,
deployments.py). Quota comes from `RateLimit-*` headers
on every response, so there is no separate rate-limit job (GitLab has no free quota endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline, PipelineStatus
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.base import (
    INSIGHTS_RESOURCES,
    ISSUES,
    PIPELINES,
    PULL_REQUESTS,
    REPOSITORIES,
    JobContext,
    JobResult,
    ToolDefinition,
    stable_since,
)
from hyperpage.tools.errors import NotFound
from hyperpage.tools.gitlab import mappers
from hyperpage.tools.gitlab.client import SLUG, connection_specs, make_client
from hyperpage.tools.gitlab.insights import RUNNERS as INSIGHTS_RUNNERS
from hyperpage.tools.gitlab.pager import pages, updated_window
from hyperpage.tools.models import Repository


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def discover(ctx: JobContext) -> JobResult:
    """Projects in scope: listed ones, `group/*` (with subgroups), or by default the user's memberships."""
    found: dict[str, dict[str, Any]] = {}

    def keep(items: list[Any]) -> None:
        found.update((row["external_id"], row) for row in ctx.map(mappers.project, items, table=Repository.__table__))

    async def collect(path: str, params: dict[str, Any]) -> None:
        async for page in pages(ctx, path, params, conditional=False):
            keep(page)

    if not ctx.spec.scopes:
        await collect("/projects", {"membership": "true", "archived": "false"})

    # A project or group that is gone or out of reach answers "404 Project Not Found" / "404 Group Not Found"
    # (https://docs.gitlab.com/api/projects/#get-a-single-project)
    async def visit(scope: str) -> None:
        if scope.endswith("/*"):
            await collect(f"/groups/{quote(scope[:-2], safe='')}/projects", {"include_subgroups": "true"})
            return
        item = await ctx.get_json(f"/projects/{quote(scope, safe='')}", dict)
        keep([item])

    await ctx.each_scope(visit)
    ctx.result.discovered = list(found.values())
    return ctx.result


async def _sync_issuables(ctx: JobContext, kind: str, mapper: Callable[..., dict[str, Any]], table: Any) -> JobResult:
    """Merge requests and issues: the same window, filters and paging, each in all states and of all authors."""
    path = f"/projects/{ctx.repository_external_id}/{kind}"
    async for page in pages(ctx, path, {**updated_window(ctx), "scope": "all", "state": "all"}):
        await ctx.store(table, ctx.map_scoped(mapper, page, table))
    return ctx.finish()


async def sync_merge_requests(ctx: JobContext) -> JobResult:
    return await _sync_issuables(ctx, "merge_requests", mappers.merge_request, PullRequest.__table__)


async def sync_pipelines(ctx: JobContext) -> JobResult:
    project = ctx.repository_external_id
    params = updated_window(ctx)
    if ctx.full or not ctx.high_water_mark:
        params["updated_after"] = _iso(stable_since(ctx.now - timedelta(days=ctx.settings.sync_pipelines_window_days)))
    async for page in pages(ctx, f"/projects/{project}/pipelines", params):
        detailed = [await _with_times(ctx, project, item) for item in page]
        rows = ctx.map_scoped(mappers.pipeline, detailed, Pipeline.__table__)
        await ctx.store(Pipeline.__table__, rows)
    return ctx.finish()


async def _with_times(ctx: JobContext, project: str | None, item: Any) -> Any:
    """The list omits started_at/finished_at/duration; only changed pipelines reach here, so fetch those."""
    if not isinstance(item, dict) or "finished_at" in item or "id" not in item:
        return item
    if mappers.pipeline_status(item.get("status")) is PipelineStatus.QUEUED:
        return item
    try:
        return {**item, **await ctx.get_json(f"/projects/{project}/pipelines/{item['id']}", dict)}
    except NotFound:
        return item


async def sync_issues(ctx: JobContext) -> JobResult:
    return await _sync_issuables(ctx, "issues", mappers.issue, Issue.__table__)


TOOL = ToolDefinition(
    slug=SLUG,
    resources=(REPOSITORIES, PULL_REQUESTS, PIPELINES, ISSUES, *INSIGHTS_RESOURCES),
    scoped=frozenset({PULL_REQUESTS, PIPELINES, ISSUES, *INSIGHTS_RESOURCES}),
    connection_specs=connection_specs,
    make_client=make_client,
    runners={
        REPOSITORIES: discover,
        PULL_REQUESTS: sync_merge_requests,
        PIPELINES: sync_pipelines,
        ISSUES: sync_issues,
        **INSIGHTS_RUNNERS,
    },
)
