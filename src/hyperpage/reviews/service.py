"""Queries over code reviews. Every SQL statement about pull requests lives here."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage import metrics
from hyperpage.listing.common import synced_listing
from hyperpage.listing.spec import Search, equals, flag, has_element
from hyperpage.reviews.models import PullRequest, ReviewState
from hyperpage.reviews.schemas import ReviewOut, ReviewSort
from hyperpage.tools.models import Connection, Repository

pr = PullRequest
LISTING = synced_listing(
    pr,
    ReviewOut,
    ReviewSort,
    # `#123` on GitHub, `!123` on GitLab
    computed={"key": case((Connection.tool == "gitlab", "!"), else_="#") + cast(pr.number, String)},
    filters=(
        equals("state", pr.state),
        equals("author", pr.author),
        has_element("reviewer", pr.requested_reviewers),
        has_element("label", pr.labels),
        flag("draft", pr.draft),
    ),
    search=Search((pr.title, Repository.full_name, pr.author, pr.source_branch), number=pr.number),
)


async def count_open(session: AsyncSession, *, tool: str | None = None) -> int:
    stmt = select(func.count()).select_from(PullRequest).where(PullRequest.state == ReviewState.OPEN.value)
    if tool:
        stmt = stmt.join(Connection, and_(Connection.id == PullRequest.connection_id, Connection.tool == tool))
    return int(await session.scalar(stmt) or 0)


async def scrape_gauges(app: FastAPI) -> None:
    """Scrape hook: hyperpage_open_reviews from the database at each /api/metrics scrape."""
    async with app.state.sessionmaker() as session:
        metrics.OPEN_REVIEWS.set(await count_open(session))
