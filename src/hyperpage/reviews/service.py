"""Queries over code reviews. Every SQL statement about pull requests lives here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage import metrics
from hyperpage.api.paging import fetch_page, time_sorts
from hyperpage.db.expressions import dialect_of, json_list_contains, search_terms
from hyperpage.reviews.models import PullRequest, ReviewState
from hyperpage.reviews.schemas import ReviewOut, ReviewPage, ReviewQuery, ReviewSort
from hyperpage.tools.models import Connection, Repository, select_with_source

_LISTING = select_with_source(PullRequest)  # built once: ~0.15 ms a request otherwise
SORTS = time_sorts(PullRequest, ReviewSort)
_KEY_PREFIX = {"github": "#", "gitlab": "!"}


async def list_reviews(session: AsyncSession, *, query: ReviewQuery) -> ReviewPage:
    """One page of reviews matching the filters, in a stable keyset order."""
    stmt = _LISTING.where(*_conditions(dialect_of(session), query))
    items, next_cursor = await fetch_page(session, stmt, SORTS[query.sort], query.cursor, query.limit, _out)
    return ReviewPage(items=items, next_cursor=next_cursor, limit=query.limit)


def _conditions(dialect: str, query: ReviewQuery) -> list[Any]:
    pr = PullRequest
    conds: list[Any] = []
    if query.tool:
        conds.append(Connection.tool == query.tool.value)
    if query.connection:
        conds.append(pr.connection_id == query.connection)
    if query.repository:
        conds.append(Repository.full_name == query.repository)
    if query.state:
        conds.append(pr.state == query.state.value)
    if query.author:
        conds.append(pr.author == query.author)
    if query.reviewer:
        conds.append(json_list_contains(dialect, pr.requested_reviewers, query.reviewer))
    if query.label:
        conds.append(json_list_contains(dialect, pr.labels, query.label))
    if query.draft is not None:
        conds.append(pr.draft.is_(query.draft))
    if (since := query.since_utc()) is not None:
        conds.append(pr.updated_at >= since)
    for term in search_terms(query.q):
        fields = [pr.title, Repository.full_name, pr.author, pr.source_branch]
        alternatives = [f.icontains(term, autoescape=True) for f in fields]
        number = term.lstrip("#!")
        if number.isdigit():
            alternatives.append(cast(pr.number, String) == number)
        conds.append(or_(*alternatives))
    return conds


def _out(row: Row[Any]) -> ReviewOut:
    # the row comes from our own schema: a plain dataclass, nothing re-validates what the database guarantees;
    # the mapping's item access is ~4x cheaper than Row attributes, which shows on 200-row pages
    m = row._mapping
    tool, number = m["tool"], m["number"]
    return ReviewOut(
        id=m["id"], tool=tool, connection=m["connection_name"], connection_id=m["connection_id"],
        repository=m["repository_name"], number=number, key=f"{_KEY_PREFIX.get(tool, '#')}{number}", title=m["title"],
        state=ReviewState(m["state"]), original_state=m["original_state"], draft=m["draft"], author=m["author"],
        requested_reviewers=list(m["requested_reviewers"] or []), labels=list(m["labels"] or []),
        source_branch=m["source_branch"], target_branch=m["target_branch"], web_url=m["web_url"],
        created_at=m["created_at"], updated_at=m["updated_at"], merged_at=m["merged_at"], closed_at=m["closed_at"],
        synced_at=m["synced_at"],
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
