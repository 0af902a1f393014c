"""Connections and their jobs in the database, from the settings: upserted at start, never holding secrets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.config import Settings
from hyperpage.db.upsert import upsert
from hyperpage.logging import strip_userinfo
from hyperpage.sync.models import SyncState
from hyperpage.tools.base import INSIGHTS_RESOURCES, ConnectionSpec, ToolDefinition
from hyperpage.tools.models import Connection, Repository


def interval_for(settings: Settings, resource: str) -> int:
    return int(getattr(settings, f"sync_{resource}_interval_seconds"))


async def register_connections(
    *,
    session: AsyncSession,
    settings: Settings,
    specs: Sequence[ConnectionSpec],
    tools: Sequence[ToolDefinition],
    now: datetime,
) -> dict[tuple[str, str], int]:
    """Upsert one row per configured connection, disable the others, and make sure their jobs exist."""
    if specs:
        # a URL may carry `user:password@`; the database never holds a secret
        rows = [
            {
                "tool": s.tool,
                "name": s.name,
                "base_url": strip_userinfo(s.base_url),
                "scope": s.public_scope(),
                "enabled": True,
                "updated_at": now,
            }
            for s in specs
        ]
        await upsert(session, Connection.__table__, rows, key=("tool", "name"))
    configured = {(s.tool, s.name) for s in specs}
    ids: dict[tuple[str, str], int] = {}
    for conn in (await session.scalars(select(Connection))).all():
        if (conn.tool, conn.name) in configured:
            ids[(conn.tool, conn.name)] = conn.id
        elif conn.enabled:
            conn.enabled = False  # kept with its data; it comes back if configured again
    by_slug = {t.slug: t for t in tools}
    jobs = []
    for (tool_slug, _name), conn_id in ids.items():
        tool = by_slug[tool_slug]
        for resource in tool.resources:
            if resource not in tool.scoped and (settings.sync_insights or resource not in INSIGHTS_RESOURCES):
                jobs.append(_job(settings, conn_id, resource, "", now))
    await upsert(
        session, SyncState.__table__, jobs, key=("connection_id", "resource", "scope"), update=("interval_seconds",)
    )
    if not settings.sync_insights and ids:  # connection-wide insights jobs (Jira's incidents) turned off
        await session.execute(
            delete(SyncState).where(
                SyncState.connection_id.in_(list(ids.values())),
                SyncState.scope == "",
                SyncState.resource.in_(INSIGHTS_RESOURCES),
            )
        )
    await _refresh_intervals(session, settings, list(ids.values()))
    return ids


def _job(settings: Settings, connection_id: int, resource: str, scope: str, now: datetime) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "resource": resource,
        "scope": scope,
        "interval_seconds": interval_for(settings, resource),
        "next_run_at": now,
        "consecutive_failures": 0,
    }


async def _refresh_intervals(session: AsyncSession, settings: Settings, connection_ids: list[int]) -> None:
    """Scoped jobs created earlier follow interval changes in the settings too."""
    for resource in ("pull_requests", "pipelines", "issues", *INSIGHTS_RESOURCES):
        await session.execute(
            update(SyncState)
            .where(SyncState.connection_id.in_(connection_ids), SyncState.resource == resource)
            .values(interval_seconds=interval_for(settings, resource))
        )


async def register_repositories(
    *,
    session: AsyncSession,
    settings: Settings,
    connection_id: int,
    tool: ToolDefinition,
    repositories: list[dict[str, Any]],
    now: datetime,
) -> int:
    """Store discovered repositories/projects and keep one job per (scoped resource, repository).

    Jobs of repositories that left the scope are removed; their rows stay (a full resync of nothing
    would be the only way to judge them, and losing data on a scope typo is worse)."""
    rows = [{**repo, "connection_id": connection_id, "updated_at": now} for repo in repositories]
    await upsert(session, Repository.__table__, rows)
    names = {repo["full_name"] for repo in repositories}
    active = sorted(r for r in tool.scoped if settings.sync_insights or r not in INSIGHTS_RESOURCES)
    jobs = [_job(settings, connection_id, resource, name, now) for name in sorted(names) for resource in active]
    await upsert(
        session, SyncState.__table__, jobs, key=("connection_id", "resource", "scope"), update=("interval_seconds",)
    )
    stale = delete(SyncState).where(SyncState.connection_id == connection_id, SyncState.resource.in_(tool.scoped))
    if names:  # jobs of repositories gone from the scope, and of resources turned off
        stale = stale.where(or_(SyncState.scope.not_in(names), SyncState.resource.not_in(active)))
    await session.execute(stale)
    return len(rows)
