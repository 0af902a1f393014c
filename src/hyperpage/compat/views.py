"""The original portal's read routes: /api/tools/enabled, /api/tools/{tool}/{endpoint}, /api/rate-limit/{platform}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from hyperpage.api.caching import NOT_MODIFIED_DOC, data_response
from hyperpage.api.deps import SessionDep
from hyperpage.api.params import RATE_LIMITED, error_doc
from hyperpage.compat import service
from hyperpage.validation import SafeText

router = APIRouter(tags=["compatibility (original Hyperpage routes)"])
_SEGMENT = r"^[a-zA-Z0-9._-]+$"


def _responses(errors: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """A parameterised compat route's documented answers: 304, its own errors, 422 and 429."""
    described: dict[int | str, dict[str, Any]] = {status: error_doc(text) for status, text in errors.items()}
    return {304: NOT_MODIFIED_DOC, **described, 422: error_doc("Invalid parameter"), 429: RATE_LIMITED}


class EnabledTools(BaseModel):
    enabledTools: list[dict[str, Any]]  # the original camelCase field names
    count: int
    apis: list[dict[str, Any]]


class PlatformRateLimit(BaseModel):
    platform: str
    lastUpdated: int | None
    dataFresh: bool
    status: str
    limits: dict[str, dict[str, dict[str, Any]]]


@router.get(
    "/api/tools/enabled",
    response_model=EnabledTools,
    responses={304: NOT_MODIFIED_DOC, 429: RATE_LIMITED},
    summary="Enabled tools with widgets and endpoints (original shape)",
)
async def enabled(request: Request, session: SessionDep) -> Response:
    return data_response(request, await service.enabled_tools(session))


@router.get(
    "/api/tools/{tool}/{endpoint}",
    response_model=dict[str, Any],
    responses=_responses(
        {
            400: "Unsupported platform",
            403: "TOOL_DISABLED: the tool has no enabled connection",
            404: "TOOL_NOT_FOUND or ENDPOINT_NOT_FOUND",
        }
    ),
    summary="One widget's rows in the original shape, e.g. github/pull-requests, ci-cd/pipelines",
)
async def tool_endpoint(
    request: Request,
    session: SessionDep,
    tool: str = Path(
        pattern=_SEGMENT, max_length=50, description="Tool slug: github, gitlab, jira, code-reviews, ci-cd, ticketing."
    ),
    endpoint: str = Path(pattern=_SEGMENT, max_length=50, description="Endpoint, e.g. pull-requests."),
    status: SafeText | None = Query(
        None, max_length=50, description="ci-cd/pipelines: case-insensitive status substring."
    ),
    limit: int = Query(20, ge=1, le=200, description="Rows to return (1-200)."),
) -> Response:
    body = await service.tool_endpoint(session, slug=tool, endpoint=endpoint, limit=limit, status_filter=status)
    return data_response(request, body)


@router.get(
    "/api/rate-limit/{platform}",
    response_model=PlatformRateLimit,
    responses=_responses({400: "PLATFORM_NOT_SUPPORTED"}),
    summary="Rate-limit status of a platform (normal/warning/critical at 75/90 % used), original shape",
)
async def rate_limit(
    request: Request,
    session: SessionDep,
    platform: str = Path(pattern=_SEGMENT, max_length=50, description="github, gitlab or jira."),
) -> Response:
    return data_response(request, await service.platform_rate_limit(session, platform=platform))
