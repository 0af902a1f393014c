"""/api/v1/tools and /api/v1/sync: connection and job states (read) and admin actions (write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from hyperpage.api.admin import AdminDep
from hyperpage.api.caching import NOT_MODIFIED_DOC, data_response
from hyperpage.api.deps import SessionDep, SettingsDep
from hyperpage.api.params import ADMIN_RESPONSES, RATE_LIMITED
from hyperpage.listing.query import Tool
from hyperpage.status import service
from hyperpage.status.schemas import SyncJobsReport, SyncTrigger, ToolOut, ToolsReport, ToolUpdate, TriggerResult

router = APIRouter(prefix="/api/v1", tags=["tools and sync"])
_READ: dict[int | str, dict[str, Any]] = {304: NOT_MODIFIED_DOC, 429: RATE_LIMITED}


@router.get(
    "/tools",
    response_model=ToolsReport,
    responses=_READ,
    summary="Configured tools and connections: enabled, last sync, last error, stale",
)
async def tools(request: Request, session: SessionDep) -> Response:
    return data_response(request, await service.tools_report(session))


@router.get(
    "/sync",
    response_model=SyncJobsReport,
    responses=_READ,
    summary="Every sync job: schedule, last success, last error, lease",
)
async def sync_jobs(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return data_response(request, await service.sync_report(session, settings=settings))


@router.post(
    "/sync/trigger",
    response_model=TriggerResult,
    responses=ADMIN_RESPONSES,
    summary="Admin: make sync jobs due now (all, or by tool, connection or job)",
)
async def trigger(session: SessionDep, _admin: AdminDep, target: SyncTrigger | None = None) -> TriggerResult:
    return await service.trigger_sync(session, target=target or SyncTrigger())


@router.patch(
    "/tools/{tool}",
    response_model=ToolOut,
    responses=ADMIN_RESPONSES,
    summary="Admin: enable/disable a tool or override its sync interval",
)
async def update_tool(
    tool: Annotated[Tool, Path(description="github, gitlab or jira.")],
    change: ToolUpdate,
    session: SessionDep,
    _admin: AdminDep,
) -> ToolOut:
    return await service.update_tool(session, tool=tool, change=change)
