"""Queries over CI/CD runs. Every SQL statement about pipelines lives here."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage import metrics
from hyperpage.listing.common import synced_listing
from hyperpage.listing.spec import Search, equals
from hyperpage.pipelines.models import Pipeline, PipelineResult, PipelineStatus
from hyperpage.pipelines.schemas import PipelineOut, PipelineSort
from hyperpage.tools.models import Repository

p = Pipeline
LISTING = synced_listing(
    p,
    PipelineOut,
    PipelineSort,
    filters=(equals("status", p.status), equals("result", p.result), equals("ref", p.ref)),
    search=Search((p.name, Repository.full_name, p.ref, p.sha, p.event, p.external_id)),
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
