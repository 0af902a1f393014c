"""SQLite list pages are read, assembled and tagged on reader threads (listing/sqlitereader.py), never on the
event loop's thread, and reads the threads cannot run (over budget, locked, no file) are answered by the pool.

SQLite's own: on PostgreSQL asyncpg never blocks the loop (the same pages are held to the same bytes on both
engines by tests/api/test_list_golden.py and tests/listing/test_sqljson.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hyperpage.db.session import create_engine
from hyperpage.etags import tagged
from hyperpage.listing import page, sqlitereader
from hyperpage.listing.sqlitereader import NOT_READ, SQLITE_READERS
from hyperpage.reviews import service as reviews
from hyperpage.reviews.schemas import ReviewQuery
from tests.conftest import make_settings
from tests.listing.test_reader import five_pull_requests

SQL = "SELECT number FROM pull_requests ORDER BY number"


@pytest.fixture
async def engine(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[AsyncEngine]:
    url = await five_pull_requests(tmp_path, sqlite_template)
    engine = create_engine(make_settings(url, db_pool_size=1, db_max_overflow=0))
    yield engine
    await engine.dispose()


def _numbers_and_thread(rows: list[Any]) -> tuple[list[int], int]:
    return [row[0] for row in rows], threading.get_ident()


async def test_a_page_is_read_and_finished_off_the_loop(engine: AsyncEngine) -> None:
    numbers, thread = await SQLITE_READERS.read(engine, SQL, [], _numbers_and_thread)  # type: ignore[misc]
    assert numbers == [0, 1, 2, 3, 4]
    assert thread != threading.get_ident()


async def test_list_pages_come_tagged_from_the_reader_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    render = page._render

    def spy(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return render(*args)

    monkeypatch.setattr(page, "_render", spy)
    query = ReviewQuery(limit=2)
    sort = reviews.LISTING.sorts[query.sort]
    body = await page.read_page_json(engine, reviews.LISTING, query, sort)
    assert body == tagged((await page.read_page(engine, reviews.LISTING, query, sort)).json())
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_read_over_budget_is_finished_by_the_pool(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlitereader, "BUDGET_SECONDS", -1.0)  # every read is over budget at its first look
    monkeypatch.setattr(sqlitereader, "PROGRESS_STEPS", 1)
    assert await SQLITE_READERS.read(engine, SQL, [], _numbers_and_thread) is NOT_READ
    query = ReviewQuery(limit=2)
    sort = reviews.LISTING.sorts[query.sort]
    body = await page.read_page_json(engine, reviews.LISTING, query, sort)
    monkeypatch.undo()  # the reader's connection is left without its progress handler: the next read is its own
    assert body == await page.read_page_json(engine, reviews.LISTING, query, sort)
    numbers, _thread = await SQLITE_READERS.read(engine, SQL, [], _numbers_and_thread)  # type: ignore[misc]
    assert numbers == [0, 1, 2, 3, 4]


async def test_errors_reach_the_request_as_sqlalchemys(engine: AsyncEngine) -> None:
    with pytest.raises(sa_exc.DBAPIError, match="no such table"):
        await SQLITE_READERS.read(engine, "SELECT * FROM no_such_table", [], list)

    def broken(_rows: list[Any]) -> None:
        raise ValueError("finish failed")

    with pytest.raises(ValueError, match="finish failed"):
        await SQLITE_READERS.read(engine, SQL, [], broken)
    assert await SQLITE_READERS.read(engine, SQL, [], len) == 5  # the threads serve on


async def test_a_cancelled_read_leaves_the_threads_serving(engine: AsyncEngine) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(rows: list[Any]) -> int:
        started.set()
        release.wait(5)
        return len(rows)

    pending = asyncio.ensure_future(SQLITE_READERS.read(engine, SQL, [], slow))
    await asyncio.to_thread(started.wait, 5)
    pending.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert await SQLITE_READERS.read(engine, SQL, [], len) == 5


async def test_the_threads_stop_with_the_engine(engine: AsyncEngine) -> None:
    before = set(threading.enumerate())
    await SQLITE_READERS.read(engine, SQL, [], len)
    threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("sqlite-reader-")]
    assert len(threads) == sqlitereader.READER_THREADS
    await engine.dispose()
    for thread in threads:
        await asyncio.to_thread(thread.join, 5)
        assert not thread.is_alive()  # and closed its connection: no file descriptor outlives the engine
    assert await SQLITE_READERS.read(engine, SQL, [], len) == 5  # a disposed engine may be used again


async def test_a_database_in_memory_is_read_by_the_pool() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")  # each connection its own database: none to share
    try:
        assert await SQLITE_READERS.read(engine, "SELECT 1", [], len) is NOT_READ
    finally:
        await engine.dispose()
