"""Follow GitHub's `Link: <...>; rel="next"` to the last page; the first request is conditional.

A next link to a page already read stops the run (PaginationLoop) instead of paging forever.

https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hyperpage.tools.base import JobContext
from hyperpage.tools.errors import BadPayload
from hyperpage.tools.http import decode_json
from hyperpage.tools.links import PageTrail

PER_PAGE = 100


async def pages(
    ctx: JobContext, path: str, params: dict[str, Any], *, items_key: str | None = None, conditional: bool = True
) -> AsyncIterator[list[Any]]:
    """Yield each page's items. A 304 on the first page yields nothing and marks the run not-modified."""
    response = await ctx.first_page(path, {**params, "per_page": PER_PAGE}, conditional=conditional)
    if response is None:  # 304: nothing changed since the last run
        return
    trail = PageTrail()
    while True:
        trail.add(response.request.url)
        body = decode_json(response, dict if items_key else list)
        items = body.get(items_key) if items_key else body
        if not isinstance(items, list):
            raise BadPayload(f"{path}: `{items_key}` is not a list")
        yield items
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return
        trail.check(response.request.url.join(next_url))
        response = await ctx.send("GET", next_url)
