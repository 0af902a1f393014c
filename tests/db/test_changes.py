"""The change signal's write counting (db/changes.py), on SQLite and PostgreSQL: reads never count as changes, and
its hooks never change how a cancelled statement ends."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.db.changes import _LocalCommits
from hyperpage.db.session import create_engine, sqlite_file
from tests.conftest import make_settings


@contextmanager
def _blocking(db_url: str, db_engine_name: str) -> Iterator[str]:
    """A statement that waits on a lock another connection holds, until the block ends."""
    if db_engine_name == "sqlite":
        holder = sqlite3.connect(sqlite_file(make_settings(db_url).sqlalchemy_url) or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock: our DDL below waits for it in SQLite's busy handler
        try:
            yield "CREATE TABLE waits_for_the_lock (x INTEGER)"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with psycopg.connect(db_url.replace("+asyncpg", ""), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(4242)")
        try:
            yield "SELECT pg_advisory_lock(4242)"
        finally:
            holder.execute("SELECT pg_advisory_unlock(4242)")


async def _run_until_cancelled(engine: AsyncEngine, statement: str) -> BaseException | None:
    started = asyncio.Event()

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql == statement:
            started.set()

    event.listen(engine.sync_engine, "before_cursor_execute", note)

    async def run() -> None:
        async with engine.connect() as conn:
            await conn.execute(text(statement))

    task = asyncio.create_task(run())
    async with asyncio.timeout(30):
        await started.wait()
    await asyncio.sleep(0.05)  # let the task reach the driver's await; cancelling earlier proves less, not more
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    return results[0] if isinstance(results[0], BaseException) else None


async def test_a_cancelled_statement_ends_cancelled_not_as_a_database_error(db_url, db_engine_name) -> None:
    # A cancellation that reaches a running statement invalidates the connection, and the rollback that follows
    # runs our hooks. Had a hook raised there (it once read Connection.info, which tries to reconnect), the
    # CancelledError would turn into PendingRollbackError, `except Exception` would swallow the cancellation,
    # and the LISTEN task would listen again while the app's shutdown waited for it forever.
    engine = create_engine(make_settings(db_url))
    try:
        async with engine.connect() as conn:  # connected before the lock: SQLite's connect-time pragmas would wait
            await conn.execute(text("SELECT 1"))
        with _blocking(db_url, db_engine_name) as statement:
            outcome = await _run_until_cancelled(engine, statement)
        assert isinstance(outcome, asyncio.CancelledError), repr(outcome)
        async with engine.connect() as conn:  # the pool still works after it
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_only_transactions_that_wrote_count_as_changes(db_url) -> None:
    engine = create_engine(make_settings(db_url))
    try:
        before = _LocalCommits.count
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM repositories"))
            await conn.commit()  # what a metrics scrape's session does
        assert _LocalCommits.count == before
        async with engine.connect() as conn:
            await conn.execute(text("DELETE FROM repositories WHERE id = -1"))  # a write, even of nothing
            await conn.rollback()
            await conn.execute(text("SELECT 1"))
            await conn.commit()  # the rolled-back write is forgotten: nothing visible changed
        assert _LocalCommits.count == before
        async with engine.connect() as conn:
            await conn.execute(text("DELETE FROM repositories WHERE id = -1"))
            await conn.commit()
        assert _LocalCommits.count == before + 1
    finally:
        await engine.dispose()
