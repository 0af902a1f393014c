"""Queries over CI/CD runs. Every SQL statement about pipelines lives here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage import metrics
from hyperpage.api.paging import fetch_page, time_sorts
from hyperpage.db.expressions import search_terms
from hyperpage.pipelines.models import Pipeline, PipelineResult, PipelineStatus
from hyperpage.pipelines.schemas import PipelineOut, PipelinePage, PipelineQuery, PipelineSort
from hyperpage.tools.models import Connection, Repository, select_with_source

_LISTING = select_with_source(Pipeline)  # built once: ~0.15 ms a request otherwise
SORTS = time_sorts(Pipeline, PipelineSort)


async def list_pipelines(session: AsyncSession, *, query: PipelineQuery) -> PipelinePage:
    """One page of runs matching the filters, in a stable keyset order."""
    stmt = _LISTING.where(*_conditions(query))
    items, next_cursor = await fetch_page(session, stmt, SORTS[query.sort], query.cursor, query.limit, _out)
    return PipelinePage(items=items, next_cursor=next_cursor, limit=query.limit)


def _conditions(query: PipelineQuery) -> list[Any]:
    p = Pipeline
    conds: list[Any] = []
    if query.tool:
        conds.append(Connection.tool == query.tool.value)
    if query.connection:
        conds.append(p.connection_id == query.connection)
    if query.repository:
        conds.append(Repository.full_name == query.repository)
    if query.status:
        conds.append(p.status == query.status.value)
    if query.result:
        conds.append(p.result == query.result.value)
    if query.ref:
        conds.append(p.ref == query.ref)
    if (since := query.since_utc()) is not None:
        conds.append(p.updated_at >= since)
    for term in search_terms(query.q):
        fields = [p.name, Repository.full_name, p.ref, p.sha, p.event, p.external_id]
        conds.append(or_(*(f.icontains(term, autoescape=True) for f in fields)))
    return conds


def _out(row: Row[Any]) -> PipelineOut:
    # the row comes from our own schema: a plain dataclass, nothing re-validates what the database guarantees;
    # the mapping's item access is ~4x cheaper than Row attributes, which shows on 200-row pages
    m = row._mapping
    result = m["result"]
    return PipelineOut(
        id=m["id"], tool=m["tool"], connection=m["connection_name"], connection_id=m["connection_id"],
        repository=m["repository_name"], name=m["name"], status=PipelineStatus(m["status"]),
        result=PipelineResult(result) if result else None, original_status=m["original_status"],
        original_result=m["original_result"], ref=m["ref"], sha=m["sha"], event=m["event"], web_url=m["web_url"],
        created_at=m["created_at"], updated_at=m["updated_at"], started_at=m["started_at"],
        finished_at=m["finished_at"], duration_seconds=m["duration_seconds"], synced_at=m["synced_at"],
    )


async def count_failing(session: AsyncSession) -> int:
    """Branches whose latest finished run failed: what "CI is red" means to a team, not every old failure."""
    latest = (
        select(
            Pipeline.result,
            func.row_number().over(
                partition_by=(Pipeline.connection_id, Pipeline.repository_id, Pipeline.ref, Pipeline.name),
                order_by=(Pipeline.created_at.desc(), Pipeline.id.desc()),
            ).label("rank"),
        )
        .where(Pipeline.status == PipelineStatus.DONE.value)
        .subquery()
    )
    stmt = select(func.count()).select_from(latest).where(
        latest.c.rank == 1, latest.c.result == PipelineResult.FAILURE.value
    )
    return int(await session.scalar(stmt) or 0)


async def scrape_gauges(app: FastAPI) -> None:
    """Scrape hook: hyperpage_failing_pipelines from the database at each /api/metrics scrape."""
    async with app.state.sessionmaker() as session:
        metrics.FAILING_PIPELINES.set(await count_failing(session))
