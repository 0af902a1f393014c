"""Queries over tickets. Every SQL statement about issues lives here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hyperpage.issues.models import Issue, StatusCategory
from hyperpage.issues.schemas import IssueOut, IssuePage, IssueQuery, IssueSort
from hyperpage.listing.common import common_filters, source_columns, source_of
from hyperpage.listing.cursor import time_sorts
from hyperpage.listing.page import Page, read_page, read_page_json
from hyperpage.listing.spec import Listing, Out, Search, equals, has_element
from hyperpage.tools.models import Repository

i = Issue
LISTING = Listing(
    source=source_of(i),
    columns=(
        *source_columns(i),
        Out("key", i.key),
        Out("title", i.title),
        Out("status_category", i.status_category),
        Out("original_status", i.original_status),
        Out("assignee", i.assignee),
        Out("reporter", i.reporter),
        Out("priority", i.priority),
        Out("issue_type", i.issue_type),
        Out("labels", i.labels, "list"),
        Out("web_url", i.web_url),
        Out("created_at", i.created_at, "time"),
        Out("updated_at", i.updated_at, "time"),
        Out("resolved_at", i.resolved_at, "time"),
        Out("synced_at", i.synced_at, "time"),
    ),
    filters=(
        *common_filters(i),
        equals("status_category", i.status_category),
        equals("assignee", i.assignee),
        has_element("label", i.labels),
    ),
    search=Search((i.title, i.key, Repository.full_name, i.assignee, i.reporter)),
    sorts=time_sorts(i, IssueSort),
)


async def issues_page(engine: AsyncEngine, *, query: IssueQuery) -> Page:
    """One page of tickets matching the filters, in a stable keyset order, as plain rows."""
    return await read_page(engine, LISTING, query, LISTING.sorts[query.sort])


async def issues_json(engine: AsyncEngine, *, query: IssueQuery) -> bytes:
    """The same page as the API's JSON bytes."""
    return await read_page_json(engine, LISTING, query, LISTING.sorts[query.sort])


async def list_issues(session: AsyncSession, *, query: IssueQuery) -> IssuePage:
    """The same page as typed items, for the server-rendered pages and the original portal's routes."""
    page = await issues_page(session.bind, query=query)  # type: ignore[arg-type]
    return IssuePage(items=[_out(row) for row in page.items], next_cursor=page.next_cursor, limit=page.limit)


def _out(row: dict[str, Any]) -> IssueOut:
    return IssueOut(**{**row, "status_category": StatusCategory(row["status_category"])})
