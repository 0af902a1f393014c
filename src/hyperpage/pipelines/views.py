"""GET /api/v1/pipelines: thin route over pipelines.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hyperpage.api.caching import data_response
from hyperpage.api.deps import EngineDep
from hyperpage.api.listroute import ListRoute
from hyperpage.api.params import LIST_RESPONSES
from hyperpage.listing.page import read_list_json
from hyperpage.pipelines import service
from hyperpage.pipelines.schemas import PipelinePage, PipelineQuery

router = APIRouter(prefix="/api/v1", tags=["pipelines"], route_class=ListRoute)


@router.get(
    "/pipelines",
    response_model=PipelinePage,
    responses=LIST_RESPONSES,
    summary="CI/CD runs, filtered, searched and paged",
    description="Searched fields: workflow name, repository, branch (ref), commit sha, event, run id. "
    "`result=FAILURE` lists failing pipelines.",
)
async def list_pipelines(request: Request, engine: EngineDep, query: Annotated[PipelineQuery, Query()]) -> Response:
    return data_response(request, await read_list_json(engine, service.LISTING, query))
