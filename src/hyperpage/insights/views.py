"""GET /api/v1/insights/dora and /api/v1/insights/cycle-time: thin routes over insights.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from hyperpage.api.caching import NOT_MODIFIED_DOC, data_response
from hyperpage.api.deps import EngineDep
from hyperpage.api.listroute import ListRoute
from hyperpage.api.params import RATE_LIMITED, ErrorBody
from hyperpage.insights import memo
from hyperpage.insights.schemas import CycleTimeReport, DoraReport, InsightsQuery

router = APIRouter(prefix="/api/v1/insights", tags=["insights"], route_class=ListRoute)
RESPONSES: dict[int | str, dict[str, Any]] = {
    304: NOT_MODIFIED_DOC,
    422: {
        "model": ErrorBody,
        "description": "A parameter is invalid: a malformed date, `from` after `to`, a window over 366 days, an "
        "unknown team, an unknown parameter.",
    },
    429: RATE_LIMITED,
}
FILTERS = " Window: `from`..`to` (UTC days, default the last 90 days up to today). Definitions: docs/insights.md."


@router.get(
    "/dora",
    response_model=DoraReport,
    responses=RESPONSES,
    summary="DORA's four keys with their bands and weekly trend",
    description="Deployment frequency (and deployment days), lead time for changes, change failure rate per "
    "deployment, failed deployment recovery time, each classified against the 2023 DORA bands." + FILTERS,
)
async def dora(request: Request, engine: EngineDep, query: Annotated[InsightsQuery, Query()]) -> Response:
    report = await memo.dora(request.app.state, engine, query)
    return data_response(request, report)


@router.get(
    "/cycle-time",
    response_model=CycleTimeReport,
    responses=RESPONSES,
    summary="Pull-request cycle time in four stages, with its weekly trend",
    description="Coding (first commit -> ready), pickup (ready -> first review by someone else), review (first "
    "review -> merge), deploy (merge -> production): count, median, p75, p90 (nearest rank). Changes merged "
    "without review are counted apart, with their ready -> merge time." + FILTERS,
)
async def cycle_time(request: Request, engine: EngineDep, query: Annotated[InsightsQuery, Query()]) -> Response:
    report = await memo.cycle_time(request.app.state, engine, query)
    return data_response(request, report)
