"""GET /api/v1/issues: thin route over issues.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hyperpage.api.caching import data_response
from hyperpage.api.deps import EngineDep
from hyperpage.api.listroute import ListRoute
from hyperpage.api.params import LIST_RESPONSES
from hyperpage.issues import service
from hyperpage.issues.schemas import IssuePage, IssueQuery
from hyperpage.listing.page import read_list_json

router = APIRouter(prefix="/api/v1", tags=["issues"], route_class=ListRoute)


@router.get(
    "/issues",
    response_model=IssuePage,
    responses=LIST_RESPONSES,
    summary="Tickets (Jira, GitHub, GitLab issues), filtered, searched and paged",
    description="Searched fields: title, key, project/repository, assignee, reporter.",
)
async def list_issues(request: Request, engine: EngineDep, query: Annotated[IssueQuery, Query()]) -> Response:
    return data_response(request, await read_list_json(engine, service.LISTING, query))
