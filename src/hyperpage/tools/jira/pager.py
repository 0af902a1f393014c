"""Jira search paging: Cloud's `nextPageToken` (POST /rest/api/3/search/jql) or Data Center's `startAt`.

Cloud: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
("/search" with startAt has been removed from Cloud). Data Center: POST /rest/api/2/search.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hyperpage.tools.base import JobContext
from hyperpage.tools.errors import BadPayload
from hyperpage.tools.http import decode_json

PAGE_SIZE = 100
MAX_PAGES = 1000  # a server that repeats its token must not loop forever


async def search(ctx: JobContext, jql: str, fields: list[str]) -> AsyncIterator[list[Any]]:
    body: dict[str, Any] = {"jql": jql, "maxResults": PAGE_SIZE, "fields": fields}
    cloud = ctx.spec.deployment == "cloud"
    for _ in range(MAX_PAGES):
        response = await ctx.send("POST", "/search/jql" if cloud else "/search", json=body)
        page = decode_json(response, dict)
        issues = page.get("issues")
        if not isinstance(issues, list):
            raise BadPayload("search: `issues` is not a list")
        yield issues
        if cloud:
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True or token == body.get("nextPageToken"):
                return
            body["nextPageToken"] = token
        else:
            start = int(page.get("startAt", body.get("startAt", 0))) + len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return
            body["startAt"] = start
    raise BadPayload(f"search: more than {MAX_PAGES} pages; the server keeps returning a next page")
