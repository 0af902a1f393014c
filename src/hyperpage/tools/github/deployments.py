"""GitHub deployments for the insights: the Deployments API, each deployment's statuses, and the commits it
brought from the compare API between consecutive deployments of the same repository and environment.

https://docs.github.com/rest/deployments/deployments , https://docs.github.com/rest/deployments/statuses ,
https://docs.github.com/rest/commits/commits#compare-two-commits

Economy: the list is read newest first with the stored ETag and stops at the high-water mark (the newest
deployment already stored); statuses are read once per new deployment and again only while it is running; each
deployment's compare is read once (then `commits_known` is true).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from hyperpage.db.session import session_scope
from hyperpage.insights.models import Deployment, DeploymentSource, DeploymentStatus
from hyperpage.pipelines.models import PipelineResult, PipelineStatus
from hyperpage.tools import insights_store
from hyperpage.tools.base import JobContext, JobResult, parse_time, stable_since
from hyperpage.tools.errors import NotFound
from hyperpage.tools.github import mappers
from hyperpage.tools.github.pager import pages


async def sync_deployments(ctx: JobContext) -> JobResult:
    start = ctx.now - timedelta(days=ctx.settings.sync_deployments_window_days)
    mark = None if ctx.full or ctx.high_water_mark is None else max(ctx.high_water_mark, start)
    items: list[dict[str, Any]] = []
    async for page in pages(ctx, f"/repos/{ctx.scope}/deployments", {}):
        keep = [
            i for i in page if isinstance(i, dict) and (parse_time(i.get("created_at")) or start) >= (mark or start)
        ]
        items += keep
        if len(keep) < len(page):
            break  # newest first: the rest is stored already or outside the window
    production = frozenset(ctx.spec.production_environments or ("production",))
    rows = []
    done = await insights_store.finished_deployments(ctx, [str(i.get("id")) for i in items])
    for item in items:
        known = done.get(str(item.get("id")))
        # a finished deployment's outcome does not change (a later `inactive` says nothing about it): its
        # statuses are not read again, even on a full resync; the rest of its row is (production may change)
        statuses = [] if known else await _statuses(ctx, item.get("id"))
        mapped = ctx.map_scoped(deployment, [item], Deployment.__table__, statuses=statuses, production=production)
        rows += [{**row, **known} for row in mapped] if known else mapped
    validators = ctx.result.etag, ctx.result.last_modified  # the list's, not those of the requests below
    if not items and ctx.spec.deployment_workflows:
        rows += await _workflow_deployments(ctx, mark or start, start, production)
    await insights_store.store_deployments(ctx, rows)
    for row in rows:
        ctx.advance(row["created_at"])
    await _refresh_running(ctx, {row["external_id"] for row in rows})
    await insights_store.add_commits(ctx, lambda base, head: _compare(ctx, base, head))
    ctx.result.etag, ctx.result.last_modified = validators
    return ctx.finish()


async def _statuses(ctx: JobContext, deployment_id: Any) -> list[dict[str, Any]]:
    """The newest statuses (GitHub lists them newest first; one page of 100 is the whole story in practice)."""
    try:
        page = await ctx.get_json(f"/repos/{ctx.scope}/deployments/{deployment_id}/statuses", list, per_page=100)
    except NotFound:  # deleted meanwhile
        return []
    return [s for s in page if isinstance(s, dict)]


def deployment(
    item: dict[str, Any],
    *,
    connection_id: int,
    repository_id: int | None,
    now: datetime,
    statuses: list[dict[str, Any]],
    production: frozenset[str],
) -> dict[str, Any]:
    status, original, finished = outcome(statuses)
    environment = str(item["environment"])
    return {
        "connection_id": connection_id,
        "repository_id": repository_id,
        "external_id": str(item["id"]),
        "environment": environment,
        "production": bool(item.get("production_environment")) or environment.lower() in production,
        "sha": str(item["sha"]),
        "ref": item.get("ref"),
        "status": status,
        "original_status": original,
        "source": DeploymentSource.DEPLOYMENT.value,
        "creator": (item.get("creator") or {}).get("login"),
        "web_url": next(
            (s.get("log_url") or s.get("target_url") for s in statuses if s.get("log_url") or s.get("target_url")), None
        ),
        "created_at": parse_time(item["created_at"]),
        "finished_at": finished,
        "commits_known": False,
        "synced_at": now,
    }


def outcome(statuses: list[dict[str, Any]]) -> tuple[str, str, datetime | None]:
    """(status, the newest original state, when it finished) from statuses listed newest first.

    `inactive` is what GitHub sets on an older deployment once a newer one to the same environment succeeds:
    it says nothing about this deployment's own outcome, so the newest state before it decides. A deployment
    made inactive without ever succeeding or failing was cancelled."""
    if not statuses:
        return DeploymentStatus.RUNNING.value, "none", None
    original = str(statuses[0].get("state"))
    for entry in statuses:
        state = entry.get("state")
        if state == "success":
            return DeploymentStatus.SUCCESS.value, original, parse_time(entry.get("created_at"))
        if state in ("failure", "error"):
            return DeploymentStatus.FAILURE.value, original, parse_time(entry.get("created_at"))
    if original == "inactive":
        return DeploymentStatus.CANCELLED.value, original, parse_time(statuses[0].get("created_at"))
    return DeploymentStatus.RUNNING.value, original, None


def workflows(spec_entries: tuple[str, ...]) -> dict[str, str]:
    """`Deploy=production, Deploy staging=staging` -> {"deploy": "production", ...}; no `=`: production."""
    out = {}
    for entry in spec_entries:
        name, _, environment = entry.partition("=")
        if name.strip():
            out[name.strip().lower()] = environment.strip() or "production"
    return out


async def _workflow_deployments(
    ctx: JobContext, since: datetime, start: datetime, production: frozenset[str]
) -> list[dict[str, Any]]:
    """For a repository without any deployment in the Deployments API: the runs of the configured workflows
    (GITHUB_DEPLOYMENT_WORKFLOWS, matched by name, pull-request runs left out), each as a deployment to its
    environment. The window starts at the oldest run still going, as the workflow-run sync's does."""
    by_name = workflows(ctx.spec.deployment_workflows)
    async with session_scope(ctx.sessionmaker) as session:
        mine = (Deployment.connection_id == ctx.connection_id, Deployment.repository_id == ctx.repository_id)
        api = await session.scalar(
            select(Deployment.id).where(*mine, Deployment.source == DeploymentSource.DEPLOYMENT.value).limit(1)
        )
        running = await session.scalar(
            select(func.min(Deployment.created_at)).where(
                *mine,
                Deployment.source == DeploymentSource.WORKFLOW_RUN.value,
                Deployment.status == DeploymentStatus.RUNNING.value,
            )
        )
    if api is not None:
        return []
    since = max(min(since, running) if running else since, start)
    params = {"created": f">={stable_since(since).strftime('%Y-%m-%dT%H:%M:%SZ')}"}
    rows = []
    async for page in pages(
        ctx, f"/repos/{ctx.scope}/actions/runs", params, items_key="workflow_runs", conditional=False
    ):
        for item in page:
            if not isinstance(item, dict) or item.get("event") == "pull_request":
                continue
            environment = by_name.get(str(item.get("name") or "").lower())
            if environment is not None:
                rows += ctx.map_scoped(
                    run_deployment, [item], Deployment.__table__, environment=environment, production=production
                )
    return rows


_RUN_OUTCOME = {
    PipelineResult.SUCCESS.value: DeploymentStatus.SUCCESS,
    PipelineResult.FAILURE.value: DeploymentStatus.FAILURE,
    PipelineResult.CANCELLED.value: DeploymentStatus.CANCELLED,
    PipelineResult.SKIPPED.value: DeploymentStatus.CANCELLED,
}


def run_deployment(
    item: dict[str, Any],
    *,
    connection_id: int,
    repository_id: int | None,
    now: datetime,
    environment: str,
    production: frozenset[str],
) -> dict[str, Any]:
    run = mappers.workflow_run(item, connection_id=connection_id, repository_id=repository_id, now=now)
    done = run["status"] == PipelineStatus.DONE.value
    status = _RUN_OUTCOME.get(run["result"] or "", DeploymentStatus.FAILURE) if done else DeploymentStatus.RUNNING
    return {
        "connection_id": connection_id,
        "repository_id": repository_id,
        "external_id": f"run:{item['id']}",
        "environment": environment,
        "production": environment.lower() in production,
        "sha": str(item["head_sha"]),
        "ref": item.get("head_branch"),
        "status": status.value,
        "original_status": str(item.get("conclusion") or item["status"]),
        "source": DeploymentSource.WORKFLOW_RUN.value,
        "creator": (item.get("actor") or {}).get("login"),
        "web_url": item.get("html_url"),
        "created_at": run["started_at"] or run["created_at"],
        "finished_at": run["finished_at"],
        "commits_known": False,
        "synced_at": now,
    }


async def _refresh_running(ctx: JobContext, just_read: set[str]) -> None:
    """Stored deployments still running (older than this run's listing) get their statuses read again."""
    async with session_scope(ctx.sessionmaker) as session:
        running = (
            await session.scalars(
                select(Deployment.external_id).where(
                    Deployment.connection_id == ctx.connection_id,
                    Deployment.repository_id == ctx.repository_id,
                    Deployment.status == DeploymentStatus.RUNNING.value,
                    Deployment.source == DeploymentSource.DEPLOYMENT.value,  # runs are listed again instead
                )
            )
        ).all()
    for external_id in sorted(set(running) - just_read):
        status, original, finished = outcome(await _statuses(ctx, external_id))
        async with session_scope(ctx.sessionmaker) as session:
            await session.execute(
                update(Deployment)
                .where(Deployment.connection_id == ctx.connection_id, Deployment.external_id == external_id)
                .values(status=status, original_status=original, finished_at=finished, synced_at=ctx.now)
            )


async def _compare(ctx: JobContext, base: str, head: str) -> list[str] | None:
    """The commits reachable from head and not from base, every page (empty when head is behind: a rollback)."""
    shas: list[str] = []
    try:
        async for page in pages(
            ctx, f"/repos/{ctx.scope}/compare/{base}...{head}", {}, items_key="commits", conditional=False
        ):
            shas += [str(c["sha"]) for c in page if isinstance(c, dict) and c.get("sha")]
    except NotFound as exc:
        ctx.result.problems.append(f"compare {base[:12]}...{head[:12]}: {exc}")
        return None
    return shas
