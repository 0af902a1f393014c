"""Queries over tickets. Every SQL statement about issues lives here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.api.paging import fetch_page, time_sorts
from hyperpage.db.expressions import dialect_of, json_list_contains, search_terms
from hyperpage.issues.models import Issue, StatusCategory
from hyperpage.issues.schemas import IssueOut, IssuePage, IssueQuery, IssueSort
from hyperpage.tools.models import Connection, Repository, select_with_source

_LISTING = select_with_source(Issue)  # built once: ~0.15 ms a request otherwise
SORTS = time_sorts(Issue, IssueSort)


async def list_issues(session: AsyncSession, *, query: IssueQuery) -> IssuePage:
    """One page of tickets matching the filters, in a stable keyset order."""
    stmt = _LISTING.where(*_conditions(dialect_of(session), query))
    items, next_cursor = await fetch_page(session, stmt, SORTS[query.sort], query.cursor, query.limit, _out)
    return IssuePage(items=items, next_cursor=next_cursor, limit=query.limit)


def _conditions(dialect: str, query: IssueQuery) -> list[Any]:
    i = Issue
    conds: list[Any] = []
    if query.tool:
        conds.append(Connection.tool == query.tool.value)
    if query.connection:
        conds.append(i.connection_id == query.connection)
    if query.repository:
        conds.append(Repository.full_name == query.repository)
    if query.status_category:
        conds.append(i.status_category == query.status_category.value)
    if query.assignee:
        conds.append(i.assignee == query.assignee)
    if query.label:
        conds.append(json_list_contains(dialect, i.labels, query.label))
    if (since := query.since_utc()) is not None:
        conds.append(i.updated_at >= since)
    for term in search_terms(query.q):
        fields = [i.title, i.key, Repository.full_name, i.assignee, i.reporter]
        conds.append(or_(*(f.icontains(term, autoescape=True) for f in fields)))
    return conds


def _out(row: Row[Any]) -> IssueOut:
    # the row comes from our own schema: a plain dataclass, nothing re-validates what the database guarantees;
    # the mapping's item access is ~4x cheaper than Row attributes, which shows on 200-row pages
    m = row._mapping
    return IssueOut(
        id=m["id"], tool=m["tool"], connection=m["connection_name"], connection_id=m["connection_id"],
        repository=m["repository_name"], key=m["key"], title=m["title"],
        status_category=StatusCategory(m["status_category"]), original_status=m["original_status"],
        assignee=m["assignee"], reporter=m["reporter"], priority=m["priority"], issue_type=m["issue_type"],
        labels=list(m["labels"] or []), web_url=m["web_url"], created_at=m["created_at"],
        updated_at=m["updated_at"], resolved_at=m["resolved_at"], synced_at=m["synced_at"],
    )
