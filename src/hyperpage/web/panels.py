"""View models of the overview's panels, built from the feature services (no SQL here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.issues import service as issues
from hyperpage.issues.schemas import IssuePage, IssueQuery
from hyperpage.listing.page import read_typed
from hyperpage.pipelines import service as pipelines
from hyperpage.pipelines.schemas import PipelinePage, PipelineQuery
from hyperpage.rate_limits import service as rate_limits
from hyperpage.rate_limits.schemas import RateLimitQuery, RateLimitReport
from hyperpage.reviews import service as reviews
from hyperpage.reviews.schemas import ReviewPage, ReviewQuery
from hyperpage.status import service as status
from hyperpage.status.schemas import SyncJobOut, ToolsReport

PAGE_SIZE = 10
Q = TypeVar("Q", bound=BaseModel)
# URL parameter -> (panel, field of the panel's query). The URL is the whole view state, so it can be shared.
PARAMS = {
    "q": (None, "q"),
    "tool": (None, "tool"),
    "rs": ("reviews", "state"),
    "rr": ("reviews", "reviewer"),
    "rsort": ("reviews", "sort"),
    "rc": ("reviews", "cursor"),
    "pf": ("pipelines", "result"),
    "psort": ("pipelines", "sort"),
    "pc": ("pipelines", "cursor"),
    "ist": ("issues", "status_category"),
    "ia": ("issues", "assignee"),
    "isort": ("issues", "sort"),
    "ic": ("issues", "cursor"),
}
RESOURCE_OF = {"reviews": "pull_requests", "pipelines": "pipelines", "issues": "issues", "rate_limits": "rate_limits"}


def http_link(url: str | None) -> str | None:
    """The URL when it is safe as a link target (absolute http or https), else None: shown as text instead.

    Row URLs come from upstream payloads; `javascript:`, `data:` or `vbscript:` in an href runs on click.
    Whitespace or control characters anywhere refuse the URL too: browsers drop tabs and newlines inside a
    URL and strip leading ones (WHATWG URL Standard, "basic URL parser"), so `java\tscript:` still runs.
    """
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


class BadFilter(ValueError):
    """A URL parameter the panels cannot use; the message names it."""


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


@dataclass
class Freshness:
    synced: str
    stale: bool
    interval_seconds: int | None


@dataclass
class Overview:
    state: dict[str, str]
    reviews: Any
    pipelines: Any
    issues: Any
    limits: RateLimitReport
    freshness: dict[str, Freshness]
    tools: ToolsReport
    now: datetime
    charts: list[dict[str, Any]] = field(default_factory=list)

    def url(self, **changes: str | None) -> str:
        """This view's URL with some parameters changed (None removes one)."""
        merged = {**self.state, **changes}
        query = urlencode({k: v for k, v in merged.items() if v})
        return "/" + ("?" + query if query else "")


def parse_state(params: Mapping[str, str]) -> dict[str, str]:
    return {name: params[name].strip() for name in PARAMS if params.get(name, "").strip()}


def _query(model: type[Q], panel: str, state: dict[str, str]) -> Q:
    values: dict[str, Any] = {"limit": PAGE_SIZE}
    for shared in ("q", "tool"):
        if state.get(shared):
            values[shared] = state[shared]
    for name, (owner, field_name) in PARAMS.items():
        if owner == panel and name in state:
            values[field_name] = "FAILURE" if name == "pf" else state[name]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = next((n for n, (o, f) in PARAMS.items() if f == first["loc"][0] and o in (panel, None)), "?")
        raise BadFilter(f"filter {where!r}: {first['msg']}") from None


def _freshness(jobs: list[SyncJobOut], resource: str, now: datetime) -> Freshness:
    own = [job for job in jobs if job.resource == resource]
    last = max((job.last_success_at for job in own if job.last_success_at), default=None)
    return Freshness(
        synced=ago(last, now),
        stale=any(job.stale for job in own),
        interval_seconds=min((job.interval_seconds for job in own), default=None),
    )


def _chart(series: Any, now: datetime, hours: int, width: int = 320, height: int = 64) -> dict[str, Any]:
    start = now - timedelta(hours=hours)
    points = []
    for p in series.points:
        x = (p.observed_at - start).total_seconds() / (hours * 3600) * width
        y = height - (p.usage_percent or 0) / 100 * height
        points.append(f"{max(0.0, min(width, x)):.1f},{y:.1f}")
    peak = max((p.usage_percent or 0 for p in series.points), default=0)
    return {
        "label": f"{series.connection} {series.resource}",
        "points": " ".join(points),
        "width": width,
        "height": height,
        "peak": peak,
        "samples": len(series.points),
    }


async def build_overview(session: AsyncSession, *, params: Mapping[str, str], now: datetime | None = None) -> Overview:
    moment = now or datetime.now(UTC)
    state = parse_state(params)
    review_q = _query(ReviewQuery, "reviews", state)
    pipeline_q = _query(PipelineQuery, "pipelines", state)
    issue_q = _query(IssueQuery, "issues", state)
    limits = await rate_limits.report(session, query=RateLimitQuery(hours=24, tool=issue_q.tool))
    jobs = await status.list_jobs(session, now=moment)
    view = Overview(
        state=state,
        reviews=await read_typed(session, reviews.LISTING, review_q, ReviewPage),
        pipelines=await read_typed(session, pipelines.LISTING, pipeline_q, PipelinePage),
        issues=await read_typed(session, issues.LISTING, issue_q, IssuePage),
        limits=limits,
        freshness={panel: _freshness(jobs, resource, moment) for panel, resource in RESOURCE_OF.items()},
        tools=await status.tools_report(session, now=moment),
        now=moment,
    )
    view.charts = [_chart(series, moment, limits.window_hours) for series in limits.history]
    return view


async def has_connections(session: AsyncSession) -> bool:
    report = await status.tools_report(session)
    return any(tool.connections for tool in report.tools)
