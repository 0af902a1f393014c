"""SQLite list reads run on the event loop's thread within a budget, and never make the loop wait on a lock.

The read goes to a pooled connection's own thread when it runs over the budget or meets a lock; either way the
rows are the same. Reads on the loop share one plain connection (reader.LoopReaders), not the pool's. These are
SQLite's: on PostgreSQL, asyncpg never blocks the loop (the same reads are covered on both engines by
tests/api/test_list_golden.py).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
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
    loop_reader = reader._LOOP_READERS.connection(engine.sync_engine)
    assert loop_reader is not None
    loop_reader.conn.create_function("thread_of", 0, threading.get_ident)


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
    loop_reader = reader._LOOP_READERS.connection(engine.sync_engine)
    assert loop_reader is not None
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # closed: no file descriptor outlives the engine
        loop_reader.conn.execute("SELECT 1")
    reopened = reader._LOOP_READERS.connection(engine.sync_engine)  # a disposed engine may be used again
    assert reopened is not None and reopened.conn is not loop_reader.conn
    assert reopened.conn.execute("SELECT count(*) FROM pull_requests").fetchall() == [(5,)]


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


async def test_a_read_the_process_was_preempted_during_stays_on_the_loop(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget counts the loop thread's CPU time, not the time the process sat preempted on a busy machine:
    such a read held no other request back, and sent to the thread it would wait for the GIL at every row."""
    clock_reads = itertools.count()
    # 10 s pass between the read's start (the first look at the clock) and SQLite's first progress call, while the
    # thread's CPU clock stands still (a real one failed the test in the full suite: a progress call per step, each
    # looking at both clocks, took the read itself past the 2 ms on a loaded machine)
    monkeypatch.setattr(
        reader,
        "time",
        SimpleNamespace(perf_counter=lambda: 0.0 if next(clock_reads) == 0 else 10.0, thread_time=lambda: 1.0),
    )
    monkeypatch.setattr(reader, "PROGRESS_STEPS", 1)
    rows = reader._sqlite_inline(engine, SQL, [])
    assert rows is not None  # not sent to the connection's thread
    assert [row[0] for row in rows] == [0, 1, 2, 3, 4]
    assert {row[1] for row in rows} == {threading.get_ident()}


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


async def test_a_read_stopped_after_its_first_row_keeps_its_statement_compiled(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's sqlite3 leaves a statement whose step failed after the first row marked in use, and compiles
    it again on every later execute (LoopReader): the loop's reads must go on using one compiled statement."""
    loop_reader = reader._LOOP_READERS.connection(engine.sync_engine)
    assert loop_reader is not None
    now = [0.0]
    monkeypatch.setattr(
        reader,
        "time",
        SimpleNamespace(perf_counter=lambda: now[0], thread_time=lambda: now[0], monotonic=time.monotonic),
    )
    monkeypatch.setattr(reader, "PROGRESS_STEPS", 1)

    def clock_runs_over_at(number: int) -> int:
        if number == 2:  # the budget runs out while the third row is stepped to, after execute has returned
            now[0] = 10.0
        return number

    loop_reader.conn.create_function("clock_runs_over_at", 1, clock_runs_over_at)
    sql = "SELECT number, clock_runs_over_at(number) FROM pull_requests"
    compiled: list[int] = []

    def authorizer(action: int, *_args: Any) -> int:
        if action == sqlite3.SQLITE_SELECT:  # asked while a statement is compiled, never while it runs
            compiled.append(action)
        return sqlite3.SQLITE_OK

    loop_reader.conn.set_authorizer(authorizer)

    def inline_read() -> list[Any] | None:
        now[0] = 0.0
        return reader._sqlite_inline(engine, sql, [])

    assert inline_read() is None  # stopped at the third row: the read goes to the connection's thread
    monkeypatch.setattr(reader, "INLINE_BUDGET_SECONDS", 100.0)  # from here on no read runs over
    assert inline_read() == [(n, n) for n in range(5)]  # compiled once more, under a text not stuck
    compiled.clear()
    for _ in range(3):
        assert inline_read() == [(n, n) for n in range(5)]
    assert compiled == []  # the cached statement, not a new compilation per read
