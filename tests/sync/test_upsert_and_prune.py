"""Dialect-neutral upsert and the full resync's pruning, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from hyperpage.db.base import utcnow
from hyperpage.db.session import session_scope
from hyperpage.db.upsert import upsert
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncState
from hyperpage.tools.models import Connection
from tests.sync.harness import harness
from tests.tools.mock_github import MockGitHub

SETTINGS = {"enable_github": True, "github_token": "ghp_prune7test8token", "github_repos": "acme/web"}


async def test_upsert_inserts_then_updates_on_the_natural_key(db_url: str) -> None:
    mock = MockGitHub({})
    async with harness(db_url, mock.transport) as h:
        now = utcnow()
        async with session_scope(h.sessionmaker) as session:
            await upsert(
                session,
                Connection.__table__,
                [{"tool": "github", "name": "a", "base_url": "u1", "scope": {}, "enabled": True}],
                key=("tool", "name"),
            )
            conn_id = await session.scalar(select(Connection.id))
            row = {
                "connection_id": conn_id,
                "external_id": "1",
                "number": 1,
                "title": "one",
                "state": "OPEN",
                "original_state": "open",
                "draft": False,
                "requested_reviewers": ["a"],
                "labels": [],
                "created_at": now,
                "updated_at": now,
                "synced_at": now,
            }
            assert await upsert(session, PullRequest.__table__, [row, {**row, "external_id": "2"}]) == 2
            await upsert(session, PullRequest.__table__, [{**row, "title": "renamed", "state": "MERGED"}])
            await upsert(
                session,
                Connection.__table__,
                [{"tool": "github", "name": "a", "base_url": "u2", "scope": {}, "enabled": True}],
                key=("tool", "name"),
                update=(),
            )
        prs = {p.external_id: p for p in await h.all(PullRequest)}
        assert (prs["1"].title, prs["1"].state, prs["2"].title) == ("renamed", "MERGED", "one")
        assert prs["1"].requested_reviewers == ["a"] and prs["1"].updated_at == now
        [conn] = await h.all(Connection)
        assert conn.base_url == "u1"  # update=() means insert-if-missing


async def test_full_resync_prunes_rows_the_upstream_no_longer_lists(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 5})
    async with harness(db_url, mock.transport, **SETTINGS) as h:
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert await h.count(PullRequest) == 5
        del mock.repos["acme/web"][2]
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert await h.count(PullRequest) == 5  # incremental runs never delete
        async with session_scope(h.sessionmaker) as session:
            await session.execute(update(SyncState).values(last_full_sync_at=utcnow() - timedelta(days=2)))
        await h.scheduler.run_cycle(tool="github", resource="pull_requests")
        assert sorted(p.number for p in await h.all(PullRequest)) == [1, 2, 4, 5]
        [state] = await h.all(SyncState, SyncState.resource == "pull_requests")
        assert state.last_full_sync_at > utcnow() - timedelta(minutes=1)
