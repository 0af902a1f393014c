"""Insert realistic rows through the real models, on either engine, for API, UI and benchmark tests.

The sync engine fills these tables in production; tests build exactly the state they need instead.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.config import load_settings
from hyperpage.db.session import create_engine, make_sessionmaker, session_scope
from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncState
from hyperpage.tools.models import Connection, Repository, ToolConfig

_seq = itertools.count(1)
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def db_session(db_url: str) -> AsyncIterator[AsyncSession]:
    """A committed unit of work on the database at db_url (its own engine, disposed after)."""
    engine = create_engine(load_settings(database_url=db_url))
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


async def add_connection(
    session: AsyncSession,
    *,
    tool: str = "github",
    name: str | None = None,
    base_url: str | None = None,
    enabled: bool = True,
) -> Connection:
    urls = {
        "github": "https://api.github.com",
        "gitlab": "https://gitlab.example.com",
        "jira": "https://example.atlassian.net",
    }
    row = Connection(
        tool=tool, name=name or f"{tool}-{next(_seq)}", base_url=base_url or urls[tool], scope={}, enabled=enabled
    )
    session.add(row)
    await session.flush()
    return row


async def add_repository(session: AsyncSession, *, connection: Connection, full_name: str) -> Repository:
    row = Repository(
        connection_id=connection.id,
        external_id=str(next(_seq)),
        full_name=full_name,
        web_url=f"https://example.test/{full_name}",
        default_branch="main",
    )
    session.add(row)
    await session.flush()
    return row


async def add_pull_request(
    session: AsyncSession,
    *,
    connection: Connection,
    repository: Repository | None = None,
    flush: bool = True,
    **fields: Any,
) -> PullRequest:
    n = next(_seq)
    updated = fields.pop("updated_at", BASE_TIME + timedelta(minutes=n))
    values: dict[str, Any] = {
        "external_id": f"pr-{n}",
        "number": n,
        "title": f"Pull request {n}",
        "state": "OPEN",
        "original_state": "open",
        "draft": False,
        "author": "alice",
        "requested_reviewers": [],
        "labels": [],
        "source_branch": f"feature/{n}",
        "target_branch": "main",
        "web_url": f"https://example.test/{repository.full_name if repository else 'x'}/pull/{n}",
        "created_at": updated - timedelta(hours=1),
        "updated_at": updated,
        "synced_at": updated,
    }
    values.update(fields)
    row = PullRequest(connection_id=connection.id, repository_id=repository.id if repository else None, **values)
    session.add(row)
    if flush:
        await session.flush()
    return row


async def add_pipeline(
    session: AsyncSession, *, connection: Connection, repository: Repository | None = None, **fields: Any
) -> Pipeline:
    n = next(_seq)
    updated = fields.pop("updated_at", BASE_TIME + timedelta(minutes=n))
    values: dict[str, Any] = {
        "external_id": f"run-{n}",
        "name": "CI",
        "status": "DONE",
        "result": "SUCCESS",
        "original_status": "completed",
        "original_result": "success",
        "ref": "main",
        "sha": f"{n:040x}",
        "event": "push",
        "web_url": f"https://example.test/runs/{n}",
        "created_at": updated - timedelta(minutes=5),
        "updated_at": updated,
        "started_at": updated - timedelta(minutes=4),
        "finished_at": updated,
        "duration_seconds": 240.0,
        "synced_at": updated,
    }
    values.update(fields)
    row = Pipeline(connection_id=connection.id, repository_id=repository.id if repository else None, **values)
    session.add(row)
    await session.flush()
    return row


async def add_issue(
    session: AsyncSession, *, connection: Connection, repository: Repository | None = None, **fields: Any
) -> Issue:
    n = next(_seq)
    updated = fields.pop("updated_at", BASE_TIME + timedelta(minutes=n))
    values: dict[str, Any] = {
        "external_id": f"issue-{n}",
        "key": f"PROJ-{n}",
        "title": f"Issue {n}",
        "status_category": "TODO",
        "original_status": "To Do",
        "assignee": "bob",
        "reporter": "rita",
        "priority": "Medium",
        "issue_type": "Task",
        "labels": [],
        "web_url": f"https://example.test/browse/PROJ-{n}",
        "created_at": updated - timedelta(days=1),
        "updated_at": updated,
        "synced_at": updated,
    }
    values.update(fields)
    row = Issue(connection_id=connection.id, repository_id=repository.id if repository else None, **values)
    session.add(row)
    await session.flush()
    return row


async def add_rate_limit_sample(
    session: AsyncSession,
    *,
    connection: Connection,
    resource: str = "core",
    limit: int = 5000,
    remaining: int = 4000,
    observed_at: datetime | None = None,
    reset_at: datetime | None = None,
) -> RateLimitSample:
    observed = observed_at or now()
    row = RateLimitSample(
        connection_id=connection.id,
        resource=resource,
        limit=limit,
        remaining=remaining,
        observed_at=observed,
        reset_at=reset_at or observed + timedelta(minutes=30),
    )
    session.add(row)
    await session.flush()
    return row


async def add_sync_state(
    session: AsyncSession,
    *,
    connection: Connection,
    resource: str = "pull_requests",
    scope: str = "",
    interval_seconds: int = 300,
    last_success_at: datetime | None = None,
    last_error: str | None = None,
    last_error_at: datetime | None = None,
    next_run_at: datetime | None = None,
    consecutive_failures: int = 0,
) -> SyncState:
    row = SyncState(
        connection_id=connection.id,
        resource=resource,
        scope=scope,
        interval_seconds=interval_seconds,
        last_success_at=last_success_at,
        last_error=last_error,
        last_error_at=last_error_at,
        next_run_at=next_run_at or now() + timedelta(seconds=interval_seconds),
        consecutive_failures=consecutive_failures,
    )
    session.add(row)
    await session.flush()
    return row


async def add_tool_config(
    session: AsyncSession, *, tool: str, enabled: bool | None = None, interval_seconds: int | None = None
) -> ToolConfig:
    row = ToolConfig(tool=tool, enabled=enabled, interval_seconds=interval_seconds, config={}, updated_at=now())
    session.add(row)
    await session.flush()
    return row


async def seed_pull_requests(db_url: str, count: int) -> None:
    """`count` pull requests numbered from 0 in one GitHub repository, for tests that only read them back."""
    async with db_session(db_url) as s:
        conn = await add_connection(s, tool="github")
        repo = await add_repository(s, connection=conn, full_name="acme/web")
        for n in range(count):
            await add_pull_request(s, connection=conn, repository=repo, number=n)
