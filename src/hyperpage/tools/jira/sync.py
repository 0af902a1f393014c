"""Jira issues by JQL, incrementally with `updated >= -Nm`.

A relative window is used because JQL dates are read in the token user's time zone; minutes relative to
now are the same everywhere. The window overlaps the last run by a minute; upserts make that harmless.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from hyperpage.insights.models import Incident
from hyperpage.issues.models import Issue
from hyperpage.tools.base import INCIDENTS, ISSUES, JobContext, JobResult, ToolDefinition, parse_time
from hyperpage.tools.jira import mappers
from hyperpage.tools.jira.client import SLUG, connection_specs, make_client
from hyperpage.tools.jira.pager import search

_ORDER_BY = re.compile(r"(^|\s+)ORDER\s+BY\s+.*$", re.IGNORECASE | re.DOTALL)
# Jira Cloud refuses unbounded queries on /search/jql; a scope with no condition means "every project".
EVERYTHING = 'created >= "1970-01-01"'


def build_jql(scope: str, ctx: JobContext) -> str:
    condition = _ORDER_BY.sub("", scope).strip() or EVERYTHING
    jql = f"({condition})"
    if not ctx.full and ctx.high_water_mark:
        minutes = math.ceil((ctx.now - ctx.high_water_mark).total_seconds() / 60) + 1
        jql += f" AND updated >= -{minutes}m"
    return f"{jql} ORDER BY updated ASC"


def _rows(ctx: JobContext, mapper: Callable[..., dict[str, Any]], page: list[Any], table: Any) -> list[dict[str, Any]]:
    return ctx.map(mapper, page, table=table, connection_id=ctx.connection_id, web_url=ctx.spec.web_url, now=ctx.now)


async def sync_issues(ctx: JobContext) -> JobResult:
    async for page in search(ctx, build_jql(ctx.spec.jql or "", ctx), mappers.FIELDS):
        await ctx.store(Issue.__table__, _rows(ctx, mappers.issue, page, Issue.__table__))
    return ctx.finish()


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)


def incident_condition(types: tuple[str, ...], labels: tuple[str, ...]) -> str:
    """JIRA_INCIDENT_ISSUE_TYPES / JIRA_INCIDENT_LABELS as JQL: any of the types, or any of the labels."""
    parts = [f"issuetype in ({_quoted(types)})"] if types else []
    parts += [f"labels in ({_quoted(labels)})"] if labels else []
    return " OR ".join(parts)


async def sync_incidents(ctx: JobContext) -> JobResult:
    """Incidents of every project the token sees (not only the connection's JQL scope, which is "involves me"
    by default: an outage is the team's whether or not the token's user is on it)."""
    condition = incident_condition(ctx.spec.incident_issue_types, ctx.spec.incident_labels)
    if not condition:  # both lists emptied: no incidents from this connection
        return ctx.finish()
    async for page in search(ctx, build_jql(condition, ctx), mappers.INCIDENT_FIELDS):
        await ctx.write(Incident.__table__, _rows(ctx, mappers.incident, page, Incident.__table__))
        for item in page:
            ctx.advance(parse_time(((item or {}).get("fields") or {}).get("updated")))
    return ctx.finish()


TOOL = ToolDefinition(
    slug=SLUG,
    resources=(ISSUES, INCIDENTS),
    scoped=frozenset(),
    connection_specs=connection_specs,
    make_client=make_client,
    runners={ISSUES: sync_issues, INCIDENTS: sync_incidents},
)
