"""What every tool provides and what a sync job hands it: connection specs, the job context, the result."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperpage import metrics
from hyperpage.config import Settings
from hyperpage.db.session import session_scope
from hyperpage.db.upsert import upsert
from hyperpage.logging import get_logger, register_url_credentials, strip_userinfo
from hyperpage.tools.errors import AuthFailed, NotFound, ToolError
from hyperpage.tools.http import ClientPool, RequestStats, UpstreamClient, decode_json

PULL_REQUESTS = "pull_requests"
PIPELINES = "pipelines"
ISSUES = "issues"
RATE_LIMITS = "rate_limits"
REPOSITORIES = "repositories"
# what the insights read (docs/insights.md)
PULL_REQUEST_DETAILS = "pull_request_details"
DEPLOYMENTS = "deployments"
INCIDENTS = "incidents"
INSIGHTS_RESOURCES = (PULL_REQUEST_DETAILS, DEPLOYMENTS, INCIDENTS)  # off with SYNC_INSIGHTS=false
RESOURCES = (REPOSITORIES, PULL_REQUESTS, PIPELINES, ISSUES, RATE_LIMITS, PULL_REQUEST_DETAILS, DEPLOYMENTS, INCIDENTS)
PAYLOAD_LIMIT = 65_536  # characters of a rejected item's JSON kept in sync_rejects
log = get_logger(__name__)


@dataclass(frozen=True)
class ConnectionSpec:
    """One configured upstream. `token` never leaves this object except in the Authorization header."""

    tool: str
    name: str
    base_url: str  # the API root the client talks to
    web_url: str  # what people open in a browser
    token: SecretStr = field(repr=False)
    email: str | None = None
    deployment: str | None = None
    scopes: tuple[str, ...] = ()  # owner/name, owner/*, group/project, group/* ; empty = "involves me"
    jql: str | None = None
    production_environments: tuple[str, ...] = ()  # deployment environments counted as production
    incident_labels: tuple[str, ...] = ()  # issue labels that make an issue an incident
    incident_issue_types: tuple[str, ...] = ()  # Jira issue types that make an issue an incident
    deployment_workflows: tuple[str, ...] = ()  # `workflow name=environment`: runs as deployments (no API ones)

    def __post_init__(self) -> None:
        # A configured URL may carry `user:password@` (a proxy, a token as user name): the client keeps it,
        # but links built from web_url are stored and shown, and logs mask it wherever it appears.
        register_url_credentials(self.base_url)
        register_url_credentials(self.web_url)
        object.__setattr__(self, "web_url", strip_userinfo(self.web_url))

    def public_scope(self) -> dict[str, Any]:
        """What is stored in connections.scope: never a secret."""
        scope: dict[str, Any] = {"scopes": list(self.scopes)}
        if self.jql is not None:
            scope["jql"] = self.jql
        if self.deployment:
            scope["deployment"] = self.deployment
        if self.production_environments:
            scope["production_environments"] = list(self.production_environments)
        if self.incident_labels:
            scope["incident_labels"] = list(self.incident_labels)
        if self.incident_issue_types:
            scope["incident_issue_types"] = list(self.incident_issue_types)
        if self.deployment_workflows:
            scope["deployment_workflows"] = list(self.deployment_workflows)
        return scope


@dataclass(frozen=True)
class Reject:
    """An item left out of a run: its upstream id, why, and the item as received (JSON, cut short)."""

    external_id: str
    reason: str
    payload: str


@dataclass
class JobResult:
    items_upserted: int = 0
    etag: str | None = None
    last_modified: str | None = None
    high_water_mark: datetime | None = None
    not_modified: bool = False
    discovered: list[dict[str, Any]] | None = None  # repository rows, for the repositories resource
    # What a successful run left out: configured scopes not found, items it could not map or store.
    # Either makes the run PARTIAL: stored, cursor advanced, the reason recorded where a failure would be.
    problems: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True)
class JobTarget:
    """What one sync job reads and where its last run left off: the claimed job (sync/leases.py) carries it
    and hands it to its run's context."""

    resource: str
    scope: str
    repository_id: int | None
    repository_external_id: str | None
    etag: str | None
    last_modified: str | None
    high_water_mark: datetime | None

    def target_fields(self) -> dict[str, Any]:
        """Just the JobTarget fields, so a claimed job hands them to its run's context in one place: a new field
        here reaches every run without another line in the scheduler."""
        return {f.name: getattr(self, f.name) for f in fields(JobTarget)}


@dataclass(frozen=True)
class JobContext(JobTarget):
    """Everything one run of (connection, resource, scope) needs. Tools write rows through `sessionmaker`."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    connection_id: int
    spec: ConnectionSpec
    client: UpstreamClient
    full: bool
    now: datetime
    stats: RequestStats = field(default_factory=RequestStats)
    result: JobResult = field(default_factory=JobResult)
    seen: set[str] = field(default_factory=set)  # external ids seen, for deletions after a full resync

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        conditional: bool = False,
    ) -> httpx.Response:
        """One request through the shared loop; `conditional` adds the stored ETag/Last-Modified."""
        headers: dict[str, str] = {}
        if conditional and not self.full:
            if self.etag:
                headers["If-None-Match"] = self.etag
            if self.last_modified:
                headers["If-Modified-Since"] = self.last_modified
        return await self.client.request(
            method, url, resource=self.resource, stats=self.stats, params=params, json=json, headers=headers
        )

    async def get_json(self, url: str, expect: type, **params: Any) -> Any:
        return decode_json(await self.send("GET", url, params=params or None), expect)

    async def first_page(self, path: str, params: dict[str, Any], *, conditional: bool) -> httpx.Response | None:
        """A listing's first request, conditional on the stored validators. None on 304: the run is marked
        not-modified and keeps the validators it sent; otherwise the new validators are kept for next time."""
        response = await self.send("GET", path, params=params, conditional=conditional)
        if response.status_code == 304:
            self.result.not_modified = True
            self.result.etag, self.result.last_modified = self.etag, self.last_modified
            return None
        self.remember_validators(response)
        return response

    async def write(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Upsert one page of rows in its own transaction, so a later failure keeps what is stored."""
        if not rows:
            return
        async with session_scope(self.sessionmaker) as session:
            self.result.items_upserted += await upsert(session, table, rows)
        self.seen.update(row["external_id"] for row in rows)

    def map(
        self, mapper: Callable[..., dict[str, Any]], items: Sequence[Any], *, table: Any = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Map items to rows; one that does not map, or has a value too long for `table`, is rejected
        (kept for inspection, counted, logged) and the others go on. One odd item must not stop a whole
        listing run after run, and PostgreSQL and SQLite must keep the same rows."""
        rows = []
        for item in items:
            try:
                row = mapper(item, **kwargs)
                if table is not None:
                    check_lengths(table, row)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.reject(item, _reason(exc))
                continue
            rows.append(row)
        return rows

    def reject(self, item: Any, reason: str) -> None:
        payload = json.dumps(item, default=str, sort_keys=True)
        external_id = item.get("id") if isinstance(item, dict) else None
        if external_id is None:
            external_id = "sha1:" + hashlib.sha1(payload.encode()).hexdigest()
        external_id = str(external_id)[:64]
        self.result.rejects.append(Reject(external_id, reason[:500], payload[:PAYLOAD_LIMIT]))
        log.warning(
            "sync_item_rejected",
            tool=self.spec.tool,
            connection=self.spec.name,
            resource=self.resource,
            scope=self.scope,
            external_id=external_id,
            reason=reason[:200],
        )

    def map_scoped(
        self, mapper: Callable[..., dict[str, Any]], items: Sequence[Any], table: Any, **extra: Any
    ) -> list[dict[str, Any]]:
        """`map` for a repository-scoped listing: every row gets this job's connection, repository and time."""
        return self.map(
            mapper,
            items,
            table=table,
            connection_id=self.connection_id,
            repository_id=self.repository_id,
            now=self.now,
            **extra,
        )

    async def each_scope(self, visit: Callable[[str], Awaitable[None]]) -> None:
        """`visit` every configured scope. One that is gone, renamed without a redirect or out of the token's
        reach (404; 403 e.g. under an organisation's SAML enforcement) must not cost the others their jobs: it
        is recorded and the others go on. A 401 means the token itself is wrong: every scope would fail."""
        for scope in self.spec.scopes:
            try:
                await visit(scope)
            except (NotFound, AuthFailed) as exc:
                if isinstance(exc, AuthFailed) and exc.status_code != 403:
                    raise
                self.scope_missing(scope, exc)

    def scope_missing(self, scope: str, exc: ToolError) -> None:
        """A configured repository/project the upstream does not show us: recorded, the others go on."""
        self.result.problems.append(f"{scope}: {exc}")
        metrics.SYNC_SCOPES_MISSING.labels(self.spec.tool, self.spec.name).inc()
        log.warning("sync_scope_missing", tool=self.spec.tool, connection=self.spec.name, scope=scope, error=str(exc))

    async def store(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Write one page of an updated-ordered listing and move the candidate high-water mark to its newest
        `updated_at`: what every such runner does per page."""
        await self.write(table, rows)
        for row in rows:
            self.advance(row["updated_at"])

    def finish(self) -> JobResult:
        """The run's result; a run that stored nothing newer keeps the previous high-water mark."""
        if self.result.high_water_mark is None:
            self.result.high_water_mark = self.high_water_mark
        return self.result

    def advance(self, moment: datetime | None) -> None:
        """Candidate high-water mark; stored only if the whole run succeeds."""
        if moment and (self.result.high_water_mark is None or moment > self.result.high_water_mark):
            self.result.high_water_mark = moment

    def remember_validators(self, response: httpx.Response) -> None:
        """Keep the first page's validators for the next run's conditional request."""
        self.result.etag = response.headers.get("etag")
        self.result.last_modified = response.headers.get("last-modified")


Runner = Callable[[JobContext], Awaitable[JobResult]]


@dataclass(frozen=True)
class ToolDefinition:
    """A tool as the scheduler sees it. `scoped` resources run once per discovered repository/project."""

    slug: str
    resources: tuple[str, ...]
    scoped: frozenset[str]
    connection_specs: Callable[[Settings], Sequence[ConnectionSpec]]
    make_client: Callable[[ConnectionSpec, ClientPool], UpstreamClient]
    runners: dict[str, Runner]

    async def run(self, ctx: JobContext) -> JobResult:
        return await self.runners[ctx.resource](ctx)


def check_lengths(table: Any, row: dict[str, Any]) -> None:
    """PostgreSQL refuses a string longer than its VARCHAR, SQLite stores it: refuse it here on both."""
    for column in table.columns:
        value = row.get(column.name)
        length = getattr(column.type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            raise ValueError(f"{column.name} is {len(value)} characters, longer than the {length} stored")


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"required field {exc} is missing"
    return f"{type(exc).__name__}: {exc}"


def names(items: Any, key: str, prefix: str = "") -> list[str]:
    """`[{key: "x"}, "y", ...]` -> ["x", "y"]: entries without the key (or null) are left out, not fatal.
    Labels, reviewers and teams are optional detail; one odd entry must not cost the whole item."""
    out = []
    for entry in items or []:
        value = entry.get(key) if isinstance(entry, dict) else entry
        if isinstance(value, str | int) and value != "":
            out.append(f"{prefix}{value}")
    return out


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 from any of the three APIs (`Z`, `+00:00` or Jira's `+0000`) -> aware UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def stable_since(moment: datetime) -> datetime:
    """The incremental window's start, floored to the UTC day.

    A conditional request only saves quota when its URL is the same as the one the stored ETag came from;
    a `since` that moved with every high-water mark would change the URL after each change and cost a
    full response per list per cycle. Floored to the day it stays put, so an unchanged list answers 304;
    the overlap re-reads at most a day of updates, and upserts make that harmless."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def repository_row(item: dict[str, Any], *, full_name: str, web_url: str | None) -> dict[str, Any]:
    """A GitHub repository or a GitLab project as a row of `repositories` (the name and page are the tool's)."""
    return {
        "external_id": str(item["id"]),
        "full_name": full_name,
        "web_url": web_url,
        "default_branch": item.get("default_branch"),
        "archived": bool(item.get("archived")),
    }


def synced_row(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime, **fields: Any
) -> dict[str, Any]:
    """A GitHub or GitLab item as a row of a synced table (db.base.SyncedRow): which item of which connection
    and repository, its creation and last update as the tool says, and when we read it, around `fields`."""
    return {
        "connection_id": connection_id,
        "repository_id": repository_id,
        "external_id": str(item["id"]),
        "created_at": parse_time(item["created_at"]),
        "updated_at": parse_time(item["updated_at"]),
        **fields,
        "synced_at": now,
    }


def split_list(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    """`a, b ,c` or a YAML list -> ('a', 'b', 'c')."""
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    return tuple(item.strip() for item in items if item and item.strip())
