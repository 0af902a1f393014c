"""GitLab deployments for the insights, and the commits each brought from the compare between it and the
previous deployment of the same environment.

https://docs.gitlab.com/api/deployments/#list-project-deployments ,
https://docs.gitlab.com/api/repositories/#compare-branches-tags-or-commits

Economy: one listing of every environment's deployments ordered by update, from the high-water mark. Unlike
GitHub's, a GitLab deployment carries its own status, and a status change updates it, so a running deployment
comes back in the next run's listing: no per-deployment status requests, no second look at running ones. Each
deployment's compare is read once (then `commits_known` is true); the first of an environment has nothing to
compare with and stays unknown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hyperpage.insights.models import Deployment, DeploymentSource, DeploymentStatus
from hyperpage.tools import insights_store
from hyperpage.tools.base import JobContext, JobResult, parse_time
from hyperpage.tools.errors import NotFound
from hyperpage.tools.gitlab.pager import pages, updated_window

# created, running, success, failed, canceled, blocked (waiting for a manual approval), skipped
_STATUS = {
    "success": DeploymentStatus.SUCCESS,
    "failed": DeploymentStatus.FAILURE,
    "canceled": DeploymentStatus.CANCELLED,
    "skipped": DeploymentStatus.CANCELLED,
}


async def sync_deployments(ctx: JobContext) -> JobResult:
    params = updated_window(ctx)
    if ctx.full or not ctx.high_water_mark:
        start = ctx.now - timedelta(days=ctx.settings.sync_deployments_window_days)
        params["updated_after"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    production = frozenset(ctx.spec.production_environments or ("production",))
    project = ctx.repository_external_id
    async for page in pages(ctx, f"/projects/{project}/deployments", params, conditional=False):
        items = [i for i in page if isinstance(i, dict)]
        rows = ctx.map_scoped(deployment, items, Deployment.__table__, production=production)
        await insights_store.store_deployments(ctx, rows)
        for item in items:
            ctx.advance(parse_time(item.get("updated_at")))
    await insights_store.add_commits(ctx, lambda base, head: _compare(ctx, base, head))
    ctx.result.etag = ctx.result.last_modified = None  # the window moves with the mark: never conditional
    return ctx.finish()


def deployment(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime, production: frozenset[str]
) -> dict[str, Any]:
    environment = item.get("environment") or {}
    name = str(environment["name"])
    original = str(item["status"])
    status = _STATUS.get(original, DeploymentStatus.RUNNING)
    job = item.get("deployable") or {}
    finished = None
    if status is not DeploymentStatus.RUNNING:  # older GitLab has no top-level finished_at: the job's, else the update
        finished = parse_time(item.get("finished_at") or job.get("finished_at") or item.get("updated_at"))
    return {
        "connection_id": connection_id,
        "repository_id": repository_id,
        "external_id": str(item["id"]),
        "environment": name,
        "production": environment.get("tier") == "production" or name.lower() in production,
        "sha": str(item["sha"]),
        "ref": item.get("ref"),
        "status": status.value,
        "original_status": original,
        "source": DeploymentSource.DEPLOYMENT.value,
        "creator": (item.get("user") or {}).get("username"),
        "web_url": job.get("web_url"),
        "created_at": parse_time(item["created_at"]),
        "finished_at": finished,
        "commits_known": False,
        "synced_at": now,
    }


async def _compare(ctx: JobContext, base: str, head: str) -> list[str] | None:
    """The commits reachable from head and not from base (empty when head is behind: a rollback). The compare
    is not paginated; its `diffs` come along unasked."""
    try:
        body = await ctx.get_json(
            f"/projects/{ctx.repository_external_id}/repository/compare", dict, **{"from": base, "to": head}
        )
    except NotFound as exc:
        ctx.result.problems.append(f"compare {base[:12]}...{head[:12]}: {exc}")
        return None
    return [str(c["id"]) for c in body.get("commits") or [] if isinstance(c, dict) and c.get("id")]
