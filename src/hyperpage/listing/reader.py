"""Run a compiled list statement on the database driver itself.

- SQLite: on the event loop's own thread, within a budget of CPU time (INLINE_BUDGET_SECONDS, checked by SQLite's
  progress handler) and without waiting for locks; a read that runs over or finds the database locked is run again in
  one hop to a pooled connection's aiosqlite thread, where it may take as long as it needs. A hop costs more
  than the 50-row read itself under load: the thread needs the GIL back after every row SQLite steps through, and
  waits up to the interpreter's switch interval (5 ms) for it each time while the loop is busy with other
  requests (measured: uncached pages 1.6-2x as fast inline). Reads on the loop's thread never overlap (each runs
  to its end before the loop goes on), so they share one plain connection per thread (LoopReaders), opened
  with no busy timeout and no implicit transactions: no pool checkout and check-in (two greenlet switches) and
  no busy-timeout PRAGMAs around each read (together ~60 us of a ~800 us uncached request, measured in process);
- PostgreSQL: asyncpg's `fetch`, a prepared statement from asyncpg's statement cache, in one round trip and
  outside an explicit transaction (the SQLAlchemy adapter sends BEGIN and ROLLBACK around every read), on a
  connection of the SQLAlchemy pool (its size, timeouts and the per-process connection budget of
  docs/operations.md stay as they are).
Reads that go to the pool queue for it in arrival order and hand connections on (ReadQueue).
Errors come out as SQLAlchemy's, so db/outage.py tells an outage (503) from a bug (500) as for every query.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from hyperpage import metrics
from hyperpage.db.session import PING_AFTER_IDLE_SECONDS, connect_sqlite_reader, sqlite_file

_SELECT_SECONDS = metrics.DB_QUERY_DURATION.labels("select")
# How long a read may hold the event loop: a 50-row keyset page takes 0.1-0.5 ms; a search that scans the table
# runs over and finishes on the connection's thread, having cost the loop this much once.
INLINE_BUDGET_SECONDS = 0.002
PROGRESS_STEPS = 1000  # SQLite virtual machine steps between two looks at the clock (a few per 50-row page)
_LOCKED = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


async def fetch_rows(engine: AsyncEngine, sql: str, params: list[Any]) -> list[Any]:
    """Every row of one SELECT: tuples on SQLite, asyncpg Records on PostgreSQL."""
    started = time.perf_counter()
    rows = _sqlite_inline(engine, sql, params) if engine.dialect.name == "sqlite" else None
    if rows is None:
        rows = await _pooled_fetch(engine, sql, params)
    _SELECT_SECONDS.observe(time.perf_counter() - started)
    return rows


async def _pooled_fetch(engine: AsyncEngine, sql: str, params: list[Any]) -> list[Any]:
    queue = _READ_QUEUES.queue(engine.sync_engine)
    if queue is not None:
        await queue.enter()
    raw = None
    try:
        if queue is not None:
            raw, warm = queue.handed()
            if raw is not None and not warm:
                left, raw = raw, None
                await greenlet_spawn(left.close)
        if raw is None:
            raw = await _checkout(engine)
        rows = await _fetch_on(engine, raw, sql, params)
        if queue is not None and queue.hand_over(raw):
            raw = None
        return rows
    finally:
        try:
            if raw is not None:
                await greenlet_spawn(raw.close)  # check-in: the pool's reset runs in SQLAlchemy's async context
        finally:
            if queue is not None:
                queue.leave()


async def _checkout(engine: AsyncEngine) -> Any:
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        return await engine.raw_connection()  # pool checkout (and its pre-ping, when due)
    except dbapi_error as exc:  # e.g. an unreadable SQLite file: wrapped as Engine.connect() would
        raise sa_exc.DBAPIError.instance(None, None, exc, dbapi_error, dialect=engine.dialect) from exc


async def _fetch_on(engine: AsyncEngine, raw: Any, sql: str, params: list[Any]) -> list[Any]:
    driver = raw.driver_connection
    if engine.dialect.name == "sqlite":
        return await _sqlite_thread_fetch(driver, sql, params)
    return await _asyncpg_fetch(raw, driver, sql, params)


async def _sqlite_thread_fetch(driver: Any, sql: str, params: list[Any]) -> list[Any]:
    conn: sqlite3.Connection = driver._conn

    def run() -> list[Any]:
        fetched: list[Any] = conn.execute(sql, params).fetchall()
        return fetched

    try:
        rows: list[Any] = await driver._execute(run)  # aiosqlite's queue to its connection thread, one hop
        return rows
    except sqlite3.Error as exc:
        raise sa_exc.DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


def _sqlite_inline(engine: AsyncEngine, sql: str, params: list[Any]) -> list[Any] | None:
    """The rows, or None when the read must go to a pooled connection's thread: it ran past the budget (SQLite
    stopped it) or met a lock (the loop's connection has no busy timeout: the loop must never sleep on a lock),
    or the database is no file another connection can open."""
    reader = _LOOP_READERS.connection(engine.sync_engine)
    if reader is None:
        return None
    conn = reader.conn
    deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
    cpu_started = time.thread_time()
    over: list[bool] = []

    def progress() -> bool:
        # The budget is the loop thread's own CPU time: wall time also counts the time the process sat preempted
        # on a busy machine, when it held no other request back, and sent such reads to the thread, where they
        # took up to 5 ms per row (the GIL, see above): the P99 of 200+ ms under wrk. The wall clock (~50 ns) is
        # looked at first; the thread's CPU clock (a system call, ~1 us) only once that has run out.
        if time.perf_counter() > deadline and time.thread_time() - cpu_started > INLINE_BUDGET_SECONDS:
            over.append(True)
            return True  # SQLite aborts the statement with "interrupted"
        return False

    stepping = False  # an error after the first row leaves the statement stuck (LoopReader)
    conn.set_progress_handler(progress, PROGRESS_STEPS)
    try:
        cursor = conn.execute(reader.text(sql), params)
        stepping = True
        rows: list[Any] = cursor.fetchall()
        return rows
    except sqlite3.Error as exc:
        if stepping:
            reader.retire(sql)
        if over or (isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode in _LOCKED):
            return None
        raise sa_exc.DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
    finally:
        conn.set_progress_handler(None, 0)


class LoopReader:
    """A loop's plain connection, and the text it is sent for each statement.

    Python 3.11's sqlite3 keeps a compiled statement per SQL text (the connection's statement cache) and marks
    it in use while a cursor steps it. A step that fails after the first row (the budget's interrupt, a lock;
    not one in execute) leaves the mark on for good: the reset after the error returns the error's code, which
    3.11 takes for a failed reset (3.12 asks sqlite3_stmt_busy instead). From then on every execute of that text
    compiles the statement anew, never cached: ~150 us of a ~250 us 50-row read; one over-budget read on a busy
    machine made every later request of the process pay it (measured: 9,347 compilations in 9,336 requests under
    wrk). So a text whose read failed is sent from then on with a new trailing comment: a new cache entry,
    compiled once; the stuck one is never asked for again and leaves the cache as least recently used.
    """

    __slots__ = ("_retired", "_texts", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._texts: dict[str, str] = {}  # only the statements whose read failed, each once
        self._retired = 0

    def text(self, sql: str) -> str:
        return self._texts.get(sql, sql)

    def retire(self, sql: str) -> None:
        self._retired += 1
        self._texts[sql] = f"{sql}\n-- {self._retired}"


class LoopReaders:
    """One connection per engine and thread for the reads on that thread's event loop, closed when the engine
    is disposed. A file that cannot be opened gets no connection (None, asked again next time): the read goes to
    the pool, whose error says why as for every query."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Engine, dict[int, LoopReader | None]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def connection(self, engine: Engine) -> LoopReader | None:
        per_thread = self._by_engine.get(engine)
        thread = threading.get_ident()
        if per_thread is not None and thread in per_thread:
            return per_thread[thread]
        with self._lock:
            if engine not in self._by_engine:
                self._by_engine[engine] = {}
                event.listen(engine, "engine_disposed", self._close)
            try:
                opened = _open(engine)
            except sqlite3.Error:
                return None
            self._by_engine[engine][thread] = opened
        return opened

    def _close(self, engine: Engine) -> None:
        # a disposed engine can be used again: its next reads open new connections, closed at its next dispose
        with self._lock:
            per_thread = self._by_engine.get(engine, {})
            for reader in per_thread.values():
                if reader is not None:
                    reader.conn.close()
            per_thread.clear()


def _open(engine: Engine) -> LoopReader | None:
    path = sqlite_file(engine.url)
    if path is None:
        return None  # in memory, each connection has its own database; a `file:` URI keeps the pool's options
    return LoopReader(connect_sqlite_reader(path, timeout=0))  # no busy timeout: the loop never sleeps on a lock


_LOOP_READERS = LoopReaders()


class ReadQueue:
    """The pool's connections for list reads, taken in arrival order, and handed from one read to the next.

    SQLAlchemy's asyncio pool is not fair: a connection checked in wakes the longest waiter, but a request that
    arrives before that waiter runs takes the connection (the queue's get_nowait fast path), and the waiter goes
    back to the end of the queue. Under a steady load of more requests than connections a waiter can lose again
    and again: measured in process with 32 concurrent list reads on a pool of 10, most requests took 10-20 ms
    and a few waited the whole pool timeout (5 s) and failed with 503. asyncio.Semaphore lets no newcomer past
    a waiter, so reads queue here in arrival order, as many at a time as the pool has connections.
    A read that ends while others wait hands its connection to the next one instead of checking it in for
    that one to check out (two greenlet switches and the pool's events: ~50-90 us of a ~0.9 ms read, measured
    in process); with nobody waiting it goes back to the pool, where the ORM's sessions find it.
    """

    def __init__(self, width: int) -> None:
        self._slots = asyncio.Semaphore(width)
        self._waiting = 0
        self._handed: list[tuple[Any, float]] = []  # (connection, when handed over)

    async def enter(self) -> None:
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1

    def leave(self) -> None:
        self._slots.release()

    def handed(self) -> tuple[Any, bool]:
        """The connection the read before handed over (or None), and whether it is still warm: one left longer
        than the pool's ping window (its next reader gave up waiting) goes back to the pool instead."""
        if not self._handed:
            return None, False
        raw, at = self._handed.pop()
        return raw, time.monotonic() - at < PING_AFTER_IDLE_SECONDS

    def hand_over(self, raw: Any) -> bool:
        if not self._waiting or not raw.is_valid:
            return False
        self._handed.append((raw, time.monotonic()))
        return True


class ReadQueues:
    """One ReadQueue per engine and event loop, as wide as the engine's pool."""

    def __init__(self) -> None:
        # weak on both: a test run or a restarted server leaves engines and loops behind
        self._by_engine: weakref.WeakKeyDictionary[
            Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReadQueue]
        ] = weakref.WeakKeyDictionary()

    def queue(self, engine: Engine) -> ReadQueue | None:
        overflow = getattr(engine.pool, "_max_overflow", -1)
        size = getattr(engine.pool, "size", None)
        if size is None or overflow < 0:  # no bound to queue for (NullPool, unlimited overflow)
            return None
        per_loop = self._by_engine.get(engine)
        if per_loop is None:
            per_loop = self._by_engine[engine] = weakref.WeakKeyDictionary()
        loop = asyncio.get_running_loop()
        found = per_loop.get(loop)
        if found is None:
            found = per_loop[loop] = ReadQueue(size() + overflow)
        return found


_READ_QUEUES = ReadQueues()


async def _asyncpg_fetch(raw: Any, driver: Any, sql: str, params: list[Any]) -> list[Any]:
    import asyncpg

    try:
        records: list[Any] = await driver.fetch(sql, *params)
        return records
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        if driver.is_closed():  # the server went away: this connection must not go back to the pool
            raw.invalidate(exc)
            raise sa_exc.OperationalError(sql, None, exc, connection_invalidated=True) from exc
        if isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, asyncpg.PostgresConnectionError):
            raise sa_exc.DBAPIError(sql, None, exc) from exc
        raise sa_exc.OperationalError(sql, None, exc) from exc
