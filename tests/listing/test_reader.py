"""SQLite list reads run on the event loop's thread within a budget, and never make the loop wait on a lock.

The read goes to a pooled connection's own thread when it runs over the budget or meets a lock; either way the
rows are the same. Reads on the loop share one plain connection (reader.LoopReaders), not the pool's. These are
SQLite's: on PostgreSQL, asyncpg never blocks the loop (the same reads are covered on both engines by
tests/api/test_list_golden.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.db.session import create_engine
from hyperpage.listing import reader
from tests import factories as f
from tests.conftest import make_settings

# `thread_of()` answers the ident of the thread SQLite runs the statement on
SQL = "SELECT number, thread_of() FROM pull_requests ORDER BY number"
BUSY_SECONDS = 8.0  # the connections' busy timeout (db/session.py: the statement timeout)
POOL_TIMEOUT = 0.5  # how long a checkout waits for the pool's one connection before it fails


@pytest.fixture
async def engine(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "reader.db"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    async with f.db_session(url) as s:
        conn = await f.add_connection(s, tool="github")
        repo = await f.add_repository(s, connection=conn, full_name="acme/web")
        for n in range(5):
            await f.add_pull_request(s, connection=conn, repository=repo, number=n)
    settings = make_settings(
        url, db_pool_size=1, db_max_overflow=0, db_statement_timeout=BUSY_SECONDS, db_pool_timeout=POOL_TIMEOUT
    )
    engine = create_engine(settings)

    @event.listens_for(engine.sync_engine, "connect")
    def _thread_of(dbapi_connection: Any, _record: Any) -> None:
        # the plain sqlite3 connection under aiosqlite's (listing/reader.py reads through it the same way)
        dbapi_connection._connection._conn.create_function("thread_of", 0, threading.get_ident)

    _thread_of_on_loop_connection(engine)
    yield engine
    await engine.dispose()


def _thread_of_on_loop_connection(engine: AsyncEngine) -> None:
    loop_connection = reader._LOOP_READERS.connection(engine.sync_engine)
    assert loop_connection is not None
    loop_connection.create_function("thread_of", 0, threading.get_ident)


async def _numbers_and_threads(engine: AsyncEngine) -> tuple[list[int], set[int]]:
    rows = await reader.fetch_rows(engine, SQL, [])
    return [row[0] for row in rows], {row[1] for row in rows}


async def test_a_page_is_read_on_the_loop_thread(engine: AsyncEngine) -> None:
    numbers, threads = await _numbers_and_threads(engine)
    assert numbers == [0, 1, 2, 3, 4]
    assert threads == {threading.get_ident()}


async def test_a_read_on_the_loop_needs_no_pooled_connection(engine: AsyncEngine) -> None:
    """Reads on the loop never overlap, so they need no checkout: a page is read while a session holds the pool's
    one connection (it would wait POOL_TIMEOUT for it, then fail, if it took one)."""
    async with engine.connect() as held:
        await held.exec_driver_sql("SELECT 1")
        numbers, threads = await _numbers_and_threads(engine)
    assert numbers == [0, 1, 2, 3, 4]
    assert threads == {threading.get_ident()}


async def test_the_loop_connection_closes_with_the_engine(engine: AsyncEngine) -> None:
    loop_connection = reader._LOOP_READERS.connection(engine.sync_engine)
    assert loop_connection is not None
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # closed: no file descriptor outlives the engine
        loop_connection.execute("SELECT 1")
    reopened = reader._LOOP_READERS.connection(engine.sync_engine)  # a disposed engine may be used again
    assert reopened is not None and reopened is not loop_connection
    assert reopened.execute("SELECT count(*) FROM pull_requests").fetchall() == [(5,)]


async def test_a_read_over_budget_is_finished_on_the_connection_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "INLINE_BUDGET_SECONDS", -1.0)  # every read is over budget at its first look
    monkeypatch.setattr(reader, "PROGRESS_STEPS", 1)
    numbers, threads = await _numbers_and_threads(engine)
    assert numbers == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in threads and len(threads) == 1
    # and the connection is left as it was: no progress handler, the configured busy timeout
    monkeypatch.undo()
    numbers, threads = await _numbers_and_threads(engine)
    assert threads == {threading.get_ident()}
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == BUSY_SECONDS * 1000


async def test_a_locked_database_is_waited_for_off_the_loop(engine: AsyncEngine, tmp_path: Path) -> None:
    """Another process writes; the read waits (busy timeout) on the connection's thread while the loop goes on,
    here to end that write: a read that slept on the loop would fail `database is locked`.

    In WAL mode (db/session.py) readers never wait for a writer; on a file system where WAL is not available
    SQLite keeps its rollback journal, where they do: the test puts the database in that mode.
    """

    @event.listens_for(engine.sync_engine, "connect")  # after db/session.py's PRAGMAs
    def _rollback_journal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=DELETE")
        cursor.close()

    # only a database's one connection may leave WAL: the loop's is closed while the pool's opens
    await engine.dispose()
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")  # the pool's one connection is open, in rollback-journal mode
    _thread_of_on_loop_connection(engine)
    holder = sqlite3.connect(tmp_path / "reader.db", isolation_level=None, check_same_thread=False)
    assert holder.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE pull_requests SET title = 'locked' WHERE number = 0")
    released = asyncio.Event()

    async def release() -> None:
        await asyncio.sleep(0.2)
        holder.execute("COMMIT")
        holder.close()
        released.set()

    releasing = asyncio.create_task(release())
    started = time.monotonic()
    numbers, threads = await _numbers_and_threads(engine)
    await releasing
    # the lock was released 0.2 s in; a loop asleep on the lock would have waited the whole busy timeout first
    assert released.is_set() and time.monotonic() - started < BUSY_SECONDS / 2
    assert numbers == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in threads
