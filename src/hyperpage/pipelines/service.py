"""Queries over CI/CD runs. Every SQL statement about pipelines lives here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hyperpage import metrics
from hyperpage.listing.common import common_filters, source_columns, source_of
from hyperpage.listing.cursor import time_sorts
from hyperpage.listing.page import Page, read_page, read_page_json
from hyperpage.listing.spec import Listing, Out, Search, equals
from hyperpage.pipelines.models import Pipeline, PipelineResult, PipelineStatus
from hyperpage.pipelines.schemas import PipelineOut, PipelinePage, PipelineQuery, PipelineSort
from hyperpage.tools.models import Repository

p = Pipeline
LISTING = Listing(
    source=source_of(p),
    columns=(
        *source_columns(p),
        Out("name", p.name),
        Out("status", p.status),
        Out("result", p.result),
        Out("original_status", p.original_status),
        Out("original_result", p.original_result),
        Out("ref", p.ref),
        Out("sha", p.sha),
        Out("event", p.event),
        Out("web_url", p.web_url),
        Out("created_at", p.created_at, "time"),
        Out("updated_at", p.updated_at, "time"),
        Out("started_at", p.started_at, "time"),
        Out("finished_at", p.finished_at, "time"),
        Out("duration_seconds", p.duration_seconds),
        Out("synced_at", p.synced_at, "time"),
    ),
    filters=(*common_filters(p), equals("status", p.status), equals("result", p.result), equals("ref", p.ref)),
    search=Search((p.name, Repository.full_name, p.ref, p.sha, p.event, p.external_id)),
    sorts=time_sorts(p, PipelineSort),
)


async def pipelines_page(engine: AsyncEngine, *, query: PipelineQuery) -> Page:
    """One page of runs matching the filters, in a stable keyset order, as plain rows."""
    return await read_page(engine, LISTING, query, LISTING.sorts[query.sort])


async def pipelines_json(engine: AsyncEngine, *, query: PipelineQuery) -> bytes:
    """The same page as the API's JSON bytes."""
    return await read_page_json(engine, LISTING, query, LISTING.sorts[query.sort])


async def list_pipelines(session: AsyncSession, *, query: PipelineQuery) -> PipelinePage:
    """The same page as typed items, for the server-rendered pages and the original portal's routes."""
    page = await pipelines_page(session.bind, query=query)  # type: ignore[arg-type]
    return PipelinePage(items=[_out(row) for row in page.items], next_cursor=page.next_cursor, limit=page.limit)


def _out(row: dict[str, Any]) -> PipelineOut:
    result = row["result"]
    return PipelineOut(
        **{**row, "status": PipelineStatus(row["status"]), "result": PipelineResult(result) if result else None}
    )


async def count_failing(session: AsyncSession) -> int:
    """Branches whose latest finished run failed: what "CI is red" means to a team, not every old failure."""
    latest = (
        select(
            Pipeline.result,
            func.row_number()
            .over(
                partition_by=(Pipeline.connection_id, Pipeline.repository_id, Pipeline.ref, Pipeline.name),
                order_by=(Pipeline.created_at.desc(), Pipeline.id.desc()),
            )
            .label("rank"),
        )
        .where(Pipeline.status == PipelineStatus.DONE.value)
        .subquery()
    )
    stmt = (
        select(func.count())
        .select_from(latest)
        .where(latest.c.rank == 1, latest.c.result == PipelineResult.FAILURE.value)
    )
    return int(await session.scalar(stmt) or 0)


async def scrape_gauges(app: FastAPI) -> None:
    """Scrape hook: hyperpage_failing_pipelines from the database at each /api/metrics scrape."""
    async with app.state.sessionmaker() as session:
        metrics.FAILING_PIPELINES.set(await count_failing(session))
