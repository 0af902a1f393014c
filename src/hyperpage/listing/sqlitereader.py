"""SQLite list pages read and rendered on reader threads, so the event loop only hands over a statement and
gets back the response's bytes and ETag.

One process serves every request on one event-loop thread, and that thread is the limit of an uncached list:
about half of its CPU per page was the statement (reader.py ran it on the loop). sqlite3 releases the GIL while
SQLite steps through a statement, so on a reader thread the statement runs beside the loop, on the other core;
the page is assembled there too (`finish`: joining the rows SQLite wrote as JSON, the next cursor, and the
ETag, whose blake2b releases the GIL for a body over 2 KB). The loop is woken once per read, by
call_soon_threadsafe on a plain future: run_in_executor's concurrent.futures wrapper costs the loop more.
Measured in process (uncached 50-row reviews page, 32 concurrent requests on one loop): the loop's CPU per
request fell from ~800 to ~250 us on a loaded machine (see docs/api.md, "How a list is answered").

A read holds its reader thread while it runs, so each has a budget like the loop's reads (reader.py): a
statement that runs over it (SQLite's progress handler, called every PROGRESS_STEPS virtual-machine steps, so
a 50-row page of 5,000-7,000 steps is never stopped and pays no GIL hand-back) or that meets a lock (readers
have no busy timeout) is not read here, and the caller runs it on a pooled connection, where it may take as long
as it needs. So is every read of a database that is no file (each connection to `:memory:` has its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage import metrics
from hyperpage.db.session import connect_sqlite_reader, sqlite_file
from hyperpage.listing.reader import budget, not_read

T = TypeVar("T")
_SELECT_SECONDS = metrics.DB_QUERY_DURATION.labels("select")
# two: SQLite reads in WAL mode run in parallel, and a page whose statement waits for the GIL (the loop holds
# it) does not hold up the next one; more threads only add GIL contention on two cores
READER_THREADS = 2
BUDGET_SECONDS = 0.002
PROGRESS_STEPS = 20_000


class NotRead:
    """The answer for a read the reader threads did not run: the caller reads on a pooled connection."""


NOT_READ: Final = NotRead()


class _Job(Generic[T]):
    __slots__ = ("finish", "future", "loop", "params", "sql")

    def __init__(self, sql: str, params: list[Any], finish: Callable[[list[Any]], T]) -> None:
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[T | NotRead] = self.loop.create_future()
        self.sql, self.params, self.finish = sql, params, finish

    def run(self, conn: sqlite3.Connection | None) -> None:
        """On a reader thread: the statement, then `finish` on its rows; the outcome goes to the loop."""
        if conn is None:
            self._answer(NOT_READ, None)
            return
        started = time.perf_counter()
        with budget(conn, BUDGET_SECONDS, PROGRESS_STEPS) as over:
            try:
                rows = conn.execute(self.sql, self.params).fetchall()
            except sqlite3.Error as exc:
                if not_read(exc, over):
                    self._answer(NOT_READ, None)
                else:
                    self._answer(None, sa_exc.DBAPIError.instance(self.sql, self.params, exc, sqlite3.Error))
                return
        _SELECT_SECONDS.observe(time.perf_counter() - started)
        try:
            result: T | NotRead = self.finish(rows)
        except Exception as exc:  # raised on the loop, in the request that asked
            self._answer(None, exc)
            return
        self._answer(result, None)

    def _answer(self, result: object, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while the read ran: nobody waits for it
            self.loop.call_soon_threadsafe(_settle, self.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the request was cancelled (client gone, server limits)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Readers:
    """One engine's reader threads and the queue they take reads from; each thread opens its own connection."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._serve, name=f"sqlite-reader-{n}", daemon=True) for n in range(READER_THREADS)
        ]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)

    def _serve(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while (job := self.jobs.get()) is not None:
                if conn is None and self.path is not None:
                    try:
                        conn = connect_sqlite_reader(self.path, timeout=0)  # never sleeps on a lock
                    except sqlite3.Error:
                        conn = None  # unreadable now: the pool's connection says why; opened again next read
                job.run(conn)
        finally:
            if conn is not None:
                conn.close()


class SqliteReaders:
    """Reader threads per engine, started by its first read and stopped when the engine is disposed (its
    connections close with them); a disposed engine that reads again gets new ones."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Engine, _Readers] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    async def read(
        self, engine: AsyncEngine, sql: str, params: list[Any], finish: Callable[[list[Any]], T]
    ) -> T | NotRead:
        """`finish(rows)` of the statement's rows, computed on a reader thread, or NOT_READ."""
        job = _Job(sql, params, finish)
        self._readers(engine.sync_engine).jobs.put(job)
        return await job.future

    def _readers(self, engine: Engine) -> _Readers:
        found = self._by_engine.get(engine)
        if found is not None:
            return found
        with self._lock:
            found = self._by_engine.get(engine)
            if found is None:
                if not event.contains(engine, "engine_disposed", self._stop):
                    event.listen(engine, "engine_disposed", self._stop)
                found = self._by_engine[engine] = _Readers(sqlite_file(engine.url))
            return found

    def _stop(self, engine: Engine) -> None:
        with self._lock:
            readers = self._by_engine.pop(engine, None)
        if readers is not None:
            readers.stop()


SQLITE_READERS = SqliteReaders()
