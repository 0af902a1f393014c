"""HTTP details shared by the three fake services: page arithmetic, Link headers, ETags, timestamps."""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request


class HttpProblem(Exception):
    """Raised by a handler; each service renders it in its own error shape."""

    def __init__(
        self, status: int, message: str, *, headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}  # e.g. Location of a redirect
        self.extra = extra or {}  # more fields of the error body


@dataclass
class Reply:
    payload: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    conditional: bool = True
    charge: bool = True


@dataclass
class Page:
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    def slice(self, items: list[Any]) -> list[Any]:
        start = (self.number - 1) * self.per_page
        return items[start : start + self.per_page]


def int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HttpProblem(400, f"{name} is invalid") from None


def page_of(request: Request, total: int, default_per_page: int, max_per_page: int = 100) -> Page:
    # Both GitHub and GitLab clamp an over-large per_page to 100 and treat page < 1 as page 1.
    per_page = int_param(request, "per_page", default_per_page)
    per_page = default_per_page if per_page < 1 else min(per_page, max_per_page)
    return Page(number=max(1, int_param(request, "page", 1)), per_page=per_page, total=total)


def page_url(request: Request, page: int, per_page: int) -> str:
    return str(request.url.include_query_params(page=page, per_page=per_page))


def link_header(request: Request, page: Page, order: tuple[str, ...], with_last: bool = True) -> str | None:
    """RFC 8288 Link header in the rel order the service uses (GitHub: prev,next,last,first; GitLab:
    prev,next,first,last)."""
    targets: dict[str, int] = {}
    if page.number > 1:
        targets["prev"] = min(page.number - 1, max(page.pages, 1))
        targets["first"] = 1
    if page.number < page.pages:
        targets["next"] = page.number + 1
        if with_last:
            targets["last"] = page.pages
    if not targets:
        return None
    return ", ".join(
        f'<{page_url(request, targets[rel], page.per_page)}>; rel="{rel}"' for rel in order if rel in targets
    )


def weak_etag(body: bytes, length: int = 64) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:length] + '"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present (weak comparison); otherwise
    If-Modified-Since against Last-Modified."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        if inm.strip() == "*":
            return True
        wanted = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
        return etag.removeprefix("W/") in wanted
    ims = request.headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def parse_time(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise HttpProblem(400, f"{name} is invalid") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=65536)
def iso_z(moment: datetime | None) -> str | None:
    """GitHub style: 2026-11-01T08:30:00Z."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=65536)
def iso_ms(moment: datetime | None) -> str | None:
    """GitLab style: 2026-11-01T08:30:00.000Z."""
    return (
        None
        if moment is None
        else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def jira_time(moment: datetime | None) -> str | None:
    """Jira style: 2026-11-01T08:30:00.000+0000."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000%z")


def latest(*stamps: datetime | None) -> datetime | None:
    present = [s for s in stamps if s is not None]
    return max(present) if present else None
