"""GET /api/v1/reviews: thin route over reviews.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hyperpage.api.caching import data_response
from hyperpage.api.deps import EngineDep
from hyperpage.api.listroute import ListRoute
from hyperpage.api.params import LIST_RESPONSES
from hyperpage.listing.page import read_list_json
from hyperpage.reviews import service
from hyperpage.reviews.schemas import ReviewPage, ReviewQuery

router = APIRouter(prefix="/api/v1", tags=["reviews"], route_class=ListRoute)


@router.get(
    "/reviews",
    response_model=ReviewPage,
    responses=LIST_RESPONSES,
    summary="Pull requests and merge requests, filtered, searched and paged",
    description="Searched fields: title, key (#123 / !123), repository, author, source branch.",
)
async def list_reviews(request: Request, engine: EngineDep, query: Annotated[ReviewQuery, Query()]) -> Response:
    return data_response(request, await read_list_json(engine, service.LISTING, query))
