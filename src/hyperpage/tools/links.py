"""Following the links an upstream hands us: only to its own origin, and never back to a page already read.

Link URLs are followed verbatim (GitHub's may move from `/repos/{owner}/{repo}` to `/repositories/{id}`,
https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api), so two things are checked
here rather than trusted:
- the origin: a `Link` is only a header. A proxy, a compromised or misconfigured server can point it anywhere,
  and following it would send the connection's token along. Only the configured API origin gets requests.
- loops: a `next` link or `X-Next-Page` naming a page already read would page forever while the job holds
  its lease (seen for real: 976 requests in 60 s). Jira's pager has its own guard on `nextPageToken`.
"""

from __future__ import annotations

import httpx

from hyperpage import metrics
from hyperpage.logging import get_logger
from hyperpage.tools.errors import ForeignLink, PaginationLoop

log = get_logger(__name__)


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    return url.scheme, url.host, port


def check_origin(*, tool: str, base_url: str, url: str | httpx.URL) -> None:
    """Refuse an absolute URL outside the configured API origin (relative ones resolve against it)."""
    target = httpx.URL(url)
    if not target.is_absolute_url:
        return
    if origin(target) != origin(httpx.URL(base_url)):
        metrics.UPSTREAM_LINKS_REFUSED.labels(tool).inc()
        log.warning("upstream_link_refused", tool=tool, target_origin=f"{target.scheme}://{target.host}")
        raise ForeignLink(
            f"refused to follow a link to {target.scheme}://{target.host}: not the configured API "
            f"origin {base_url.split('://', 1)[-1].split('/', 1)[0]}"
        )


def page_key(url: httpx.URL) -> str:
    """One page, however its URL is spelled: query order ignored, no `page` meaning page 1 (both APIs)."""
    params = sorted((k, v) for k, v in url.params.multi_items())
    if not any(k == "page" for k, _ in params):
        params = sorted([*params, ("page", "1")])
    query = "&".join(f"{k}={v}" for k, v in params)
    return f"{url.host}:{url.port}{url.path}?{query}"


class PageTrail:
    """The pages one listing has read; `check` refuses a next page among them."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def add(self, url: httpx.URL) -> None:
        self.read.add(page_key(url))

    def check(self, url: httpx.URL) -> None:
        if page_key(url) in self.read:
            raise PaginationLoop(
                f"{url.path}: the next page points at a page already read "
                f"(after {len(self.read)} pages); stopped instead of paging forever"
            )
