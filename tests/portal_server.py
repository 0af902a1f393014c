"""A real `hyperpage serve` over a SQLite file holding a small, realistic data set (browser and contract tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from hyperpage.db import schema
from tests import factories as f
from tests.serverproc import ServerProcess


async def seed(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="acme-github")
        gl = await f.add_connection(s, tool="gitlab", name="acme-gitlab")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gl, full_name="acme/api")
        for i in range(14):
            await f.add_pull_request(
                s,
                connection=gh if i % 2 else gl,
                repository=web if i % 2 else api,
                title=f"Improve module {i}",
                author="alice" if i % 3 else "bob",
                requested_reviewers=["carol"] if i % 4 == 0 else [],
                updated_at=now - timedelta(minutes=10 * i),
            )
        await f.add_pull_request(
            s, connection=gh, repository=web, title="Fix login redirect loop", updated_at=now - timedelta(hours=5)
        )
        for i, result in enumerate(["SUCCESS", "FAILURE", "SUCCESS", "FAILURE", "CANCELLED"]):
            await f.add_pipeline(
                s,
                connection=gh,
                repository=web,
                name=f"workflow-{i}",
                result=result,
                updated_at=now - timedelta(minutes=7 * i),
            )
        for i in range(4):
            await f.add_issue(
                s,
                connection=gl,
                repository=api,
                key=f"#{100 + i}",
                title=f"Ticket {i}",
                updated_at=now - timedelta(minutes=3 * i),
            )
        for h in range(24):
            await f.add_rate_limit_sample(
                s, connection=gh, resource="core", remaining=4800 - 150 * h, observed_at=now - timedelta(hours=23 - h)
            )
        await f.add_rate_limit_sample(s, connection=gl, resource="global", limit=2000, remaining=1500, observed_at=now)
        await f.add_sync_state(s, connection=gh, resource="pull_requests", last_success_at=now - timedelta(minutes=2))
        await f.add_sync_state(
            s, connection=gh, resource="rate_limits", interval_seconds=60, last_success_at=now - timedelta(minutes=1)
        )
        await f.add_sync_state(
            s,
            connection=gl,
            resource="pipelines",
            interval_seconds=300,
            last_success_at=now - timedelta(hours=2),
            last_error="GitLab answered 401 Unauthorized: the token was refused",
            last_error_at=now - timedelta(minutes=3),
            consecutive_failures=5,
        )


def serve(
    tmp: Path, name: str, seeded: bool, seeder: Callable[[str], Awaitable[object]] | None = None, **env: str
) -> ServerProcess:
    """`hyperpage serve` on a fresh SQLite file at head, optionally with rows (`seeder`, default the seed rows
    above); caller stops it."""
    db = f"sqlite:///{tmp / (name + '.db')}"
    schema.upgrade(db)
    if seeded:
        asyncio.run((seeder or seed)(db))
    server_env = {"DATABASE_URL": db, "HYPERPAGE_SCHEDULER": "false", "LOG_LEVEL": "WARNING", **env}
    server = ServerProcess(env=server_env).start(tmp / f"{name}.log")
    assert server.wait_status("/readyz", 200), server.logs()
    return server
