"""Connections, sync job states, freshness and the admin actions. Every SQL statement about them lives here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from fastapi import FastAPI
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage import metrics
from hyperpage.config import Settings
from hyperpage.db.storage import check_storage
from hyperpage.errors import NotFound
from hyperpage.listing.query import Tool
from hyperpage.logging import strip_userinfo
from hyperpage.status.schemas import (
    ConnectionOut,
    StorageOut,
    SyncJobOut,
    SyncJobsReport,
    SyncTrigger,
    ToolOut,
    ToolsReport,
    ToolUpdate,
    TriggerResult,
)
from hyperpage.sync.models import SyncState
from hyperpage.tools.models import Connection, ToolConfig

STALE_FACTOR = 2  # a job is stale once it has missed two of its intervals


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


async def _overrides(session: AsyncSession) -> dict[str, ToolConfig]:
    return {row.tool: row for row in (await session.scalars(select(ToolConfig))).all()}


async def list_jobs(session: AsyncSession, *, now: datetime | None = None) -> list[SyncJobOut]:
    """Every sync job with its connection, effective interval, lease and staleness."""
    moment = _now(now)
    overrides = await _overrides(session)
    stmt = (
        select(SyncState, Connection)
        .join(Connection, Connection.id == SyncState.connection_id)
        .order_by(Connection.tool, Connection.name, SyncState.resource, SyncState.scope, SyncState.id)
    )
    jobs = []
    for state, conn in (await session.execute(stmt)).all():
        override = overrides.get(conn.tool)
        interval = (
            override.interval_seconds if override and override.interval_seconds else None
        ) or state.interval_seconds
        reference = state.last_success_at or conn.created_at  # never synced: count from when it was added
        jobs.append(
            SyncJobOut(
                id=state.id,
                connection_id=conn.id,
                connection=conn.name,
                tool=conn.tool,
                resource=state.resource,
                scope=state.scope,
                interval_seconds=interval,
                last_success_at=state.last_success_at,
                last_error=state.last_error,
                last_error_at=state.last_error_at,
                consecutive_failures=state.consecutive_failures,
                next_run_at=state.next_run_at,
                running=bool(state.lease_owner and state.lease_expires_at and state.lease_expires_at > moment),
                stale=reference < moment - timedelta(seconds=STALE_FACTOR * interval),
            )
        )
    return jobs


async def sync_report(session: AsyncSession, *, settings: Settings) -> SyncJobsReport:
    """Every job, and on SQLite whether its file can still be written (a full disk fails every job)."""
    storage = await check_storage(settings)
    return SyncJobsReport(
        jobs=await list_jobs(session),
        storage=StorageOut.model_validate(storage.as_dict()) if storage is not None else None,
    )


async def tools_report(session: AsyncSession, *, now: datetime | None = None) -> ToolsReport:
    """Per tool: its admin overrides and its connections with their freshness and last error."""
    overrides = await _overrides(session)
    jobs = await list_jobs(session, now=now)
    connections = (await session.scalars(select(Connection).order_by(Connection.tool, Connection.name))).all()
    by_tool: dict[str, list[ConnectionOut]] = {tool.value: [] for tool in Tool}
    stale_count = 0
    for conn in connections:
        override = overrides.get(conn.tool)
        enabled = conn.enabled and not (override and override.enabled is False)
        own = [job for job in jobs if job.connection_id == conn.id]
        successes = [job.last_success_at for job in own if job.last_success_at]
        failing = [
            job
            for job in own
            if job.last_error
            and job.last_error_at
            and (job.last_success_at is None or job.last_error_at > job.last_success_at)
        ]
        failing.sort(key=lambda job: job.last_error_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        stale = enabled and any(job.stale for job in own)
        stale_count += int(stale)
        by_tool.setdefault(conn.tool, []).append(
            ConnectionOut(
                # rows stored before URLs were stripped on write may still hold user info
                id=conn.id,
                tool=conn.tool,
                name=conn.name,
                base_url=strip_userinfo(conn.base_url),
                enabled=enabled,
                interval_seconds=min((job.interval_seconds for job in own), default=None),
                last_success_at=max(successes, default=None),
                last_error=failing[0].last_error if failing else None,
                last_error_at=failing[0].last_error_at if failing else None,
                stale=stale,
                jobs=len(own),
            )
        )
    tools = [
        ToolOut(
            tool=Tool(tool),
            enabled=not (tool in overrides and overrides[tool].enabled is False),
            interval_seconds=overrides[tool].interval_seconds if tool in overrides else None,
            connections=conns,
        )
        for tool, conns in by_tool.items()
    ]
    return ToolsReport(tools=tools, stale_connections=stale_count)


async def trigger_sync(session: AsyncSession, *, target: SyncTrigger, now: datetime | None = None) -> TriggerResult:
    """Make the matching jobs due now; the scheduler picks them on its next tick. Commits."""
    moment = _now(now)
    stmt = update(SyncState).values(next_run_at=moment)
    if target.job:
        stmt = stmt.where(SyncState.id == target.job)
    if target.connection:
        stmt = stmt.where(SyncState.connection_id == target.connection)
    if target.tool:
        ids = select(Connection.id).where(Connection.tool == target.tool.value)
        stmt = stmt.where(SyncState.connection_id.in_(ids))
    # an UPDATE's result is a CursorResult (it has the rowcount); execute() is typed for any statement
    result = cast(CursorResult[Any], await session.execute(stmt.execution_options(synchronize_session=False)))
    count = result.rowcount or 0
    if count == 0 and (target.job or target.connection or target.tool):
        await session.rollback()
        raise NotFound("no sync job matches that tool/connection/job")
    await session.commit()
    return TriggerResult(due_now=count, at=moment)


async def update_tool(session: AsyncSession, *, tool: Tool, change: ToolUpdate, now: datetime | None = None) -> ToolOut:
    """Upsert the tool's runtime override (tool_configs). Commits."""
    row = await session.get(ToolConfig, tool.value)
    if row is None:
        row = ToolConfig(tool=tool.value, config={}, updated_at=_now(now))
        session.add(row)
    if change.enabled is not None:
        row.enabled = change.enabled
    if change.interval_seconds is not None:
        row.interval_seconds = change.interval_seconds
    row.updated_at = _now(now)
    await session.commit()
    report = await tools_report(session, now=now)
    return next(item for item in report.tools if item.tool == tool)


async def scrape_gauges(app: FastAPI) -> None:
    """Scrape hook: hyperpage_stale_connections from the database at each /api/metrics scrape."""
    async with app.state.sessionmaker() as session:
        metrics.STALE_CONNECTIONS.set((await tools_report(session)).stale_connections)
