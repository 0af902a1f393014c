"""Follow GitLab's `Link rel="next"`, or `X-Next-Page` when a proxy strips Link; first request conditional.

https://docs.gitlab.com/api/rest/#pagination (GitLab omits X-Total above 10,000 items, so it is not used.)
A next page already read stops the run (PaginationLoop) instead of paging forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from hyperpage.tools.base import JobContext, stable_since
from hyperpage.tools.http import decode_json
from hyperpage.tools.links import PageTrail

PER_PAGE = 100


async def pages(
    ctx: JobContext, path: str, params: dict[str, Any], *, conditional: bool = True
) -> AsyncIterator[list[Any]]:
    query = {**params, "per_page": PER_PAGE}
    response = await ctx.first_page(path, query, conditional=conditional)
    if response is None:  # 304: nothing changed since the last run
        return
    trail = PageTrail()
    while True:
        trail.add(response.request.url)
        yield decode_json(response, list)
        next_url = response.links.get("next", {}).get("url")
        if next_url:
            trail.check(response.request.url.join(next_url))
            response = await ctx.send("GET", next_url)
            continue
        next_page = response.headers.get("x-next-page", "").strip()
        if not next_page:
            return
        trail.check(response.request.url.copy_set_param("page", next_page))
        response = await ctx.send("GET", path, params={**query, "page": next_page})


def updated_window(ctx: JobContext) -> dict[str, Any]:
    """The incremental listing's order and start: oldest update first, from the job's high-water mark."""
    params: dict[str, Any] = {"order_by": "updated_at", "sort": "asc"}
    if not ctx.full and ctx.high_water_mark:
        # updated_after is strictly after: one second back keeps the boundary item
        params["updated_after"] = (stable_since(ctx.high_water_mark) - timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return params
