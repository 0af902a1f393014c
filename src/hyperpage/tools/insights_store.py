"""What every forge's insights sync (tools/github, tools/gitlab, tools/jira) does the same way once the provider's
payloads are mapped: pick the first review, store timelines and reviews of pull/merge requests already stored,
store deployments without forgetting a finished outcome, link each deployment to the commits its compare range
brought, and shape an incident row. The provider modules only fetch and map.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from hyperpage.db.session import session_scope
from hyperpage.db.upsert import upsert
from hyperpage.insights.models import (
    Deployment,
    DeploymentCommit,
    DeploymentStatus,
    PullRequestReview,
    PullRequestTimeline,
)
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.base import JobContext

# columns a later run may change; commits_known is set by the compare step only
REFRESHED = ("status", "original_status", "finished_at", "production", "web_url", "synced_at")

Compare = Callable[[str, str], Awaitable[list[str] | None]]


def first_review(reviews: Iterable[dict[str, Any]], author: str | None) -> dict[str, Any] | None:
    """The earliest review by a person: the author answering in their own thread and bots are no pickup."""
    return min(
        (r for r in reviews if r["reviewer"] and r["reviewer"] != author and not r["reviewer_is_bot"]),
        key=lambda r: r["submitted_at"],
        default=None,
    )


async def changed_since(ctx: JobContext, mark: datetime, *, merged: bool = False) -> bool:
    """Whether the pull/merge-request sync stored a pull request of this repository (a merged one, with
    `merged`) updated after `mark`: the details jobs ask the forge nothing while it did not."""
    mine = [PullRequest.connection_id == ctx.connection_id, PullRequest.repository_id == ctx.repository_id]
    if merged:
        mine.append(PullRequest.merged_at.is_not(None))
    async with session_scope(ctx.sessionmaker) as session:
        newest = await session.scalar(select(func.max(PullRequest.updated_at)).where(*mine))
    return newest is None or _aware(newest) > mark


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def stored_pull_requests(ctx: JobContext, external_ids: list[str]) -> dict[str, tuple[int, str | None]]:
    """external_id -> (pull_requests.id, author) of those the pull/merge-request sync has stored."""
    if not external_ids:
        return {}
    async with session_scope(ctx.sessionmaker) as session:
        found = await session.execute(
            select(PullRequest.external_id, PullRequest.id, PullRequest.author).where(
                PullRequest.connection_id == ctx.connection_id, PullRequest.external_id.in_(external_ids)
            )
        )
        return {external_id: (pr_id, author) for external_id, pr_id, author in found}


async def details_synced(ctx: JobContext, pull_request_ids: list[int]) -> dict[int, datetime]:
    """pull_requests.id -> when its timeline was stored, for those that have one."""
    if not pull_request_ids:
        return {}
    async with session_scope(ctx.sessionmaker) as session:
        found = await session.execute(
            select(PullRequestTimeline.pull_request_id, PullRequestTimeline.synced_at).where(
                PullRequestTimeline.pull_request_id.in_(pull_request_ids)
            )
        )
        return {pr_id: _aware(synced) for pr_id, synced in found}


async def store_details(ctx: JobContext, mapped: list[dict[str, Any]]) -> None:
    """Upsert `{"timeline": row, "reviews": [rows]}` items in one transaction."""
    timelines = [m["timeline"] for m in mapped]
    reviews = [r for m in mapped for r in m["reviews"]]
    async with session_scope(ctx.sessionmaker) as session:
        ctx.result.items_upserted += await upsert(
            session, PullRequestTimeline.__table__, timelines, key=("pull_request_id",)
        )
        await upsert(session, PullRequestReview.__table__, reviews, key=("pull_request_id", "external_id"))


async def finished_deployments(ctx: JobContext, external_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored deployments among these that are no longer running: their outcome columns."""
    if not external_ids:
        return {}
    async with session_scope(ctx.sessionmaker) as session:
        found = await session.execute(
            select(
                Deployment.external_id,
                Deployment.status,
                Deployment.original_status,
                Deployment.finished_at,
                Deployment.web_url,
            ).where(
                Deployment.connection_id == ctx.connection_id,
                Deployment.external_id.in_(external_ids),
                Deployment.status != DeploymentStatus.RUNNING.value,
            )
        )
        return {e: {"status": st, "original_status": o, "finished_at": f, "web_url": w} for e, st, o, f, w in found}


async def store_deployments(ctx: JobContext, rows: list[dict[str, Any]]) -> None:
    async with session_scope(ctx.sessionmaker) as session:
        ctx.result.items_upserted += await upsert(session, Deployment.__table__, rows, update=REFRESHED)


async def add_commits(ctx: JobContext, compare: Compare) -> None:
    """For each deployment of this job's repository whose commits are not known and that has a previous
    deployment of the same environment: `compare(previous sha, this sha)`. The first deployment of an environment
    has none: it stays `commits_known = false`, and the metrics leave it out instead of guessing. A compare
    answering None (a sha the forge no longer knows) leaves it unknown too."""
    async with session_scope(ctx.sessionmaker) as session:
        stored = (
            await session.execute(
                select(Deployment.id, Deployment.environment, Deployment.sha, Deployment.commits_known)
                .where(Deployment.connection_id == ctx.connection_id, Deployment.repository_id == ctx.repository_id)
                .order_by(Deployment.environment, Deployment.created_at, Deployment.id)
            )
        ).all()
    previous: dict[str, str] = {}
    for deployment_id, environment, sha, known in stored:
        base = previous.get(environment)
        previous[environment] = sha
        if known or base is None:
            continue
        shas = [] if base == sha else await compare(base, sha)
        if shas is None:
            continue
        async with session_scope(ctx.sessionmaker) as session:
            await upsert(
                session,
                DeploymentCommit.__table__,
                [{"deployment_id": deployment_id, "sha": s} for s in dict.fromkeys(shas)],
                key=("deployment_id", "sha"),
                update=(),
            )
            await session.execute(update(Deployment).where(Deployment.id == deployment_id).values(commits_known=True))


def incident_row(
    *,
    connection_id: int,
    repository_id: int | None,
    now: datetime,
    external_id: str,
    key: str,
    title: str,
    labels: list[str],
    web_url: str | None,
    opened_at: datetime | None,
    resolved_at: datetime | None,
) -> dict[str, Any]:
    """An incidents row; a label `env:NAME` names the environment it hit (none: production)."""
    environment = next((lb.split(":", 1)[1] for lb in labels if lb.lower().startswith("env:")), None)
    if opened_at is None:
        raise ValueError("an incident without an opening time")
    return {
        "connection_id": connection_id,
        "repository_id": repository_id,
        "external_id": external_id,
        "key": key,
        "title": title,
        "environment": environment,
        "web_url": web_url,
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "synced_at": now,
    }
