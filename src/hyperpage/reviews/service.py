"""Queries over code reviews. Every SQL statement about pull requests lives here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hyperpage import metrics
from hyperpage.listing.common import common_filters, source_columns, source_of
from hyperpage.listing.cursor import time_sorts
from hyperpage.listing.page import Page, read_page, read_page_json
from hyperpage.listing.spec import Listing, Out, Search, equals, flag, has_element
from hyperpage.reviews.models import PullRequest, ReviewState
from hyperpage.reviews.schemas import ReviewOut, ReviewPage, ReviewQuery, ReviewSort
from hyperpage.tools.models import Connection, Repository

pr = PullRequest
LISTING = Listing(
    source=source_of(pr),
    columns=(
        *source_columns(pr),
        Out("number", pr.number),
        # `#123` on GitHub, `!123` on GitLab
        Out("key", case((Connection.tool == "gitlab", "!"), else_="#") + cast(pr.number, String)),
        Out("title", pr.title),
        Out("state", pr.state),
        Out("original_state", pr.original_state),
        Out("draft", pr.draft, "bool"),
        Out("author", pr.author),
        Out("requested_reviewers", pr.requested_reviewers, "list"),
        Out("labels", pr.labels, "list"),
        Out("source_branch", pr.source_branch),
        Out("target_branch", pr.target_branch),
        Out("web_url", pr.web_url),
        Out("created_at", pr.created_at, "time"),
        Out("updated_at", pr.updated_at, "time"),
        Out("merged_at", pr.merged_at, "time"),
        Out("closed_at", pr.closed_at, "time"),
        Out("synced_at", pr.synced_at, "time"),
    ),
    filters=(
        *common_filters(pr),
        equals("state", pr.state),
        equals("author", pr.author),
        has_element("reviewer", pr.requested_reviewers),
        has_element("label", pr.labels),
        flag("draft", pr.draft),
    ),
    search=Search((pr.title, Repository.full_name, pr.author, pr.source_branch), number=pr.number),
    sorts=time_sorts(pr, ReviewSort),
)


async def reviews_page(engine: AsyncEngine, *, query: ReviewQuery) -> Page:
    """One page of reviews matching the filters, in a stable keyset order, as plain rows."""
    return await read_page(engine, LISTING, query, LISTING.sorts[query.sort])


async def reviews_json(engine: AsyncEngine, *, query: ReviewQuery) -> bytes:
    """The same page as the API's JSON bytes."""
    return await read_page_json(engine, LISTING, query, LISTING.sorts[query.sort])


async def list_reviews(session: AsyncSession, *, query: ReviewQuery) -> ReviewPage:
    """The same page as typed items, for the server-rendered pages and the original portal's routes."""
    page = await reviews_page(session.bind, query=query)  # type: ignore[arg-type]
    return ReviewPage(items=[_out(row) for row in page.items], next_cursor=page.next_cursor, limit=page.limit)


def _out(row: dict[str, Any]) -> ReviewOut:
    return ReviewOut(**{**row, "state": ReviewState(row["state"])})


async def count_open(session: AsyncSession, *, tool: str | None = None) -> int:
    stmt = select(func.count()).select_from(PullRequest).where(PullRequest.state == ReviewState.OPEN.value)
    if tool:
        stmt = stmt.join(Connection, and_(Connection.id == PullRequest.connection_id, Connection.tool == tool))
    return int(await session.scalar(stmt) or 0)


async def scrape_gauges(app: FastAPI) -> None:
    """Scrape hook: hyperpage_open_reviews from the database at each /api/metrics scrape."""
    async with app.state.sessionmaker() as session:
        metrics.OPEN_REVIEWS.set(await count_open(session))
