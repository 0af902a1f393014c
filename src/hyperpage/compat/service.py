"""The original portal's routes, answered from our database in the original's shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.compat.registry import BY_SLUG, PLATFORMS, TOOLS, ToolDef
from hyperpage.errors import AppError
from hyperpage.issues import service as issues
from hyperpage.issues.schemas import IssueOut, IssuePage, IssueQuery, IssueSort
from hyperpage.listing.page import read_typed
from hyperpage.listing.query import Tool
from hyperpage.pipelines import service as pipelines
from hyperpage.pipelines.schemas import PipelineOut, PipelinePage, PipelineQuery
from hyperpage.rate_limits import service as rate_limits
from hyperpage.rate_limits.schemas import Level, RateLimitQuery, RateLimitStatus, level_for
from hyperpage.reviews import service as reviews
from hyperpage.reviews.models import ReviewState
from hyperpage.reviews.schemas import ReviewOut, ReviewPage, ReviewQuery, ReviewSort
from hyperpage.status import service as status

DISPLAY = {"github": "GitHub", "gitlab": "GitLab", "jira": "Jira"}
FRESH_FOR = timedelta(minutes=10)  # the sync samples quotas every minute; ten minutes without one is "not fresh"
_LEVEL_ORDER = {Level.UNKNOWN: -1, Level.NORMAL: 0, Level.WARNING: 1, Level.CRITICAL: 2}


class CompatError(AppError):
    """An error with the original's code (TOOL_NOT_FOUND, ...) in our one error shape."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.status, self.code = status, code


async def _enabled_members(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Our tools with at least one enabled connection, and their interval override."""
    report = await status.tools_report(session)
    return {
        t.tool.value: {"interval": t.interval_seconds}
        for t in report.tools
        if t.enabled and any(c.enabled for c in t.connections)
    }


def _is_enabled(tool: ToolDef, members: dict[str, Any]) -> bool:
    return any(m in members for m in tool.members)


async def enabled_tools(session: AsyncSession) -> dict[str, Any]:
    members = await _enabled_members(session)
    out, apis = [], []
    for tool in TOOLS:
        if not _is_enabled(tool, members):
            continue
        override = next((members[m]["interval"] for m in tool.members if m in members and members[m]["interval"]), None)
        widgets = [
            {**w, "refreshInterval": override * 1000} if override and "refreshInterval" in w else dict(w)
            for w in tool.widgets
        ]
        tool_apis = [
            {
                "endpoint": e.name,
                "method": "GET",
                "description": e.description,
                "parameters": e.parameters,
                "url": f"/api/tools/{tool.slug}/{e.name}",
            }
            for e in tool.endpoints
        ]
        out.append(
            {
                "name": tool.name,
                "slug": tool.slug,
                "enabled": True,
                "capabilities": list(tool.capabilities),
                "widgets": widgets,
                "apis": tool_apis,
            }
        )
        apis += [{"tool": tool.name, **api} for api in tool_apis]
    return {"enabledTools": out, "count": len(out), "apis": apis}


async def tool_endpoint(
    session: AsyncSession, *, slug: str, endpoint: str, limit: int, status_filter: str | None = None
) -> dict[str, Any]:
    tool = BY_SLUG.get(slug.lower())
    if tool is None:
        raise CompatError(
            404, "TOOL_NOT_FOUND", f"tool {slug!r} not found", details=[{"availableTools": [t.slug for t in TOOLS]}]
        )
    spec = tool.endpoint(endpoint)
    if spec is None:
        raise CompatError(
            404,
            "ENDPOINT_NOT_FOUND",
            f"endpoint {endpoint!r} not found for tool {tool.slug!r}",
            details=[{"availableEndpoints": [e.name for e in tool.endpoints]}],
        )
    if not _is_enabled(tool, await _enabled_members(session)):
        raise CompatError(403, "TOOL_DISABLED", f"tool {tool.slug!r} is not enabled (no enabled connection)")
    if spec.name == "rate-limit":
        return await platform_rate_limit(session, platform=tool.slug)
    rows = await _rows(session, tool, spec.name, limit, status_filter)
    return {spec.data_key: rows}


async def _rows(
    session: AsyncSession, tool: ToolDef, endpoint: str, limit: int, status_filter: str | None
) -> list[dict[str, Any]]:
    only = Tool(tool.members[0]) if len(tool.members) == 1 else None
    if endpoint in ("pull-requests", "merge-requests"):
        open_first = ReviewQuery(tool=only, state=ReviewState.OPEN, sort=ReviewSort.CREATED_DESC, limit=limit)
        page = await read_typed(session, reviews.LISTING, open_first, ReviewPage)
        return [_review_row(r, mr=endpoint == "merge-requests") for r in page.items]
    if endpoint in ("workflows", "pipelines"):
        # ci-cd's status filter is a substring of a derived word, so it is applied to the newest 200 runs
        fetch = 200 if status_filter else limit
        runs = (await read_typed(session, pipelines.LISTING, PipelineQuery(tool=only, limit=fetch), PipelinePage)).items
        if endpoint == "workflows":
            return [_workflow_row(p) for p in runs]
        rows = [_pipeline_row(p) for p in runs]
        if status_filter:
            rows = [r for r in rows if status_filter.lower() in str(r["status"]).lower()]
        return rows[:limit]
    recent = IssueQuery(tool=only, sort=IssueSort.UPDATED_DESC, limit=limit)
    issues_page = await read_typed(session, issues.LISTING, recent, IssuePage)
    return [_ticket_row(i, combined=only is None) for i in issues_page.items]


def _created(value: datetime) -> dict[str, str]:
    return {"created": value.isoformat(), "created_display": value.strftime("%Y-%m-%d")}


def _review_row(r: ReviewOut, *, mr: bool) -> dict[str, Any]:
    row = {
        "id": r.key,
        "title": r.title,
        "status": r.original_state,
        "tool": DISPLAY.get(r.tool, r.tool),
        **_created(r.created_at),
        "type": "merge-request" if mr else "pull-request",
        "url": r.web_url,
    }
    row["project" if mr else "repository"] = r.repository
    return row


def _workflow_row(p: PipelineOut) -> dict[str, Any]:
    return {
        "id": p.id,
        "repository": p.repository,
        "name": p.name,
        "head_branch": p.ref,
        "status": p.original_status,
        "conclusion": p.original_result,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
        "run_duration": int(p.duration_seconds) if p.duration_seconds is not None else None,
        "html_url": p.web_url,
    }


def _pipeline_row(p: PipelineOut) -> dict[str, Any]:
    return {
        "id": p.id,
        "project": p.repository,
        "branch": p.ref,
        "status": p.original_result or p.original_status,
        "duration": f"{int(p.duration_seconds)}s" if p.duration_seconds is not None else "N/A",
        "finished_at": p.finished_at.isoformat() if p.finished_at else "Running",
        "tool": DISPLAY.get(p.tool, p.tool),
        "url": p.web_url,
    }


def _ticket_row(i: IssueOut, *, combined: bool) -> dict[str, Any]:
    row = {
        "ticket": i.key,
        "url": i.web_url,
        "title": i.title,
        "status": i.original_status,
        "assignee": i.assignee or "Unassigned",
        **_created(i.created_at),
    }
    if combined or i.tool != "jira":
        row.update({"id": i.key, "tool": DISPLAY.get(i.tool, i.tool), "type": "issue"})
    return row


async def platform_rate_limit(session: AsyncSession, *, platform: str, now: datetime | None = None) -> dict[str, Any]:
    """The original's RateLimitStatus: per resource the most-used connection, levels at 75/90 %."""
    if platform not in PLATFORMS:
        raise CompatError(
            400,
            "PLATFORM_NOT_SUPPORTED",
            f"platform {platform!r} has no rate-limit data",
            details=[{"supportedPlatforms": list(PLATFORMS)}],
        )
    moment = now or datetime.now(UTC)
    current = await rate_limits.current_status(session, query=RateLimitQuery(tool=Tool(platform)))
    worst: dict[str, RateLimitStatus] = {}
    for item in current:
        held = worst.get(item.resource)
        if held is None or (item.usage_percent or 0) > (held.usage_percent or 0):
            worst[item.resource] = item
    limits = {resource: _usage(item, moment) for resource, item in sorted(worst.items())}
    levels = [level_for(item.usage_percent) for item in worst.values()]
    overall = max(levels, key=_LEVEL_ORDER.__getitem__, default=Level.UNKNOWN)
    last = max((item.observed_at for item in worst.values()), default=None)
    return {
        "platform": platform,
        "lastUpdated": int(last.timestamp() * 1000) if last else None,
        "dataFresh": bool(last and moment - last <= FRESH_FOR),
        "status": overall.value,
        "limits": {platform: limits},
    }


def _usage(item: RateLimitStatus, now: datetime) -> dict[str, Any]:
    reset = item.reset_at
    return {
        "limit": item.limit,
        "remaining": item.remaining,
        "used": item.used,
        "usagePercent": item.usage_percent,
        "resetTime": int(reset.timestamp() * 1000) if reset else None,
        "retryAfter": max(0, int((reset - now).total_seconds())) if reset and item.remaining <= 0 else None,
    }
