"""GET /api/v1/rate-limits: thin route over rate_limits.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hyperpage.api.caching import data_response
from hyperpage.api.deps import SessionDep
from hyperpage.api.params import LIST_RESPONSES
from hyperpage.rate_limits import service
from hyperpage.rate_limits.schemas import RateLimitQuery, RateLimitReport

router = APIRouter(prefix="/api/v1", tags=["rate-limits"])
_RESPONSES = {k: v for k, v in LIST_RESPONSES.items() if k != 400}


@router.get(
    "/rate-limits",
    response_model=RateLimitReport,
    responses=_RESPONSES,
    summary="Upstream API quota: current status per connection and resource, and its history",
)
async def rate_limits(request: Request, session: SessionDep, query: Annotated[RateLimitQuery, Query()]) -> Response:
    return data_response(request, await service.report(session, query=query))
