"""Run a compiled list statement on the database driver itself, with one pooled connection.

The SQLAlchemy pool still owns the connections (its size, timeouts, disposal and the per-process connection
budget of docs/operations.md stay as they are); a read borrows one and talks to the driver directly:
- SQLite: on the event loop's own thread, within a budget (INLINE_BUDGET_SECONDS, checked by SQLite's progress
  handler) and without waiting for locks; a read that runs over or finds the database locked is run again in
  one hop to the connection's aiosqlite thread, where it may take as long as it needs. A hop costs more than
  the 50-row read itself under load: the thread needs the GIL back after every row SQLite steps through, and
  waits up to the interpreter's switch interval (5 ms) for it each time while the loop is busy with other
  requests (measured: uncached pages 1.6-2x as fast inline);
- PostgreSQL: asyncpg's `fetch`, a prepared statement from asyncpg's statement cache, in one round trip and
  outside an explicit transaction (the SQLAlchemy adapter sends BEGIN and ROLLBACK around every read).
Errors come out as SQLAlchemy's, so db/outage.py tells an outage (503) from a bug (500) as for every query.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from hyperpage import metrics
from hyperpage.db.session import BUSY_TIMEOUT_KEY

_SELECT_SECONDS = metrics.DB_QUERY_DURATION.labels("select")
# How long a read may hold the event loop: a 50-row keyset page takes 0.1-0.5 ms; a search that scans the table
# runs over and finishes on the connection's thread, having cost the loop this much once.
INLINE_BUDGET_SECONDS = 0.002
PROGRESS_STEPS = 1000  # SQLite virtual machine steps between two looks at the clock (a few per 50-row page)
_LOCKED = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


async def fetch_rows(engine: AsyncEngine, sql: str, params: list[Any]) -> list[Any]:
    """Every row of one SELECT: tuples on SQLite, asyncpg Records on PostgreSQL."""
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = await engine.raw_connection()  # pool checkout (and its pre-ping, when due)
    except dbapi_error as exc:  # e.g. an unreadable SQLite file: wrapped as Engine.connect() would
        raise sa_exc.DBAPIError.instance(None, None, exc, dbapi_error, dialect=engine.dialect) from exc
    try:
        driver = raw.driver_connection
        started = time.perf_counter()
        if engine.dialect.name == "sqlite":
            rows = await _sqlite_fetch(raw, driver, sql, params)
        else:
            rows = await _asyncpg_fetch(raw, driver, sql, params)
        _SELECT_SECONDS.observe(time.perf_counter() - started)
        return rows
    finally:
        await greenlet_spawn(raw.close)  # check-in: the pool's reset runs in SQLAlchemy's async context


async def _sqlite_fetch(raw: Any, driver: Any, sql: str, params: list[Any]) -> list[Any]:
    conn: sqlite3.Connection = driver._conn

    def run() -> list[Any]:
        fetched: list[Any] = conn.execute(sql, params).fetchall()
        return fetched

    try:
        busy_ms = raw.info.get(BUSY_TIMEOUT_KEY)  # None: not made by db/session.py, never read on the loop
        rows = None if busy_ms is None else _sqlite_inline(conn, run, busy_ms)
        if rows is None:  # over budget or locked: aiosqlite's queue to its connection thread, one hop
            rows = await driver._execute(run)
        return rows
    except sqlite3.Error as exc:
        raise sa_exc.DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


def _sqlite_inline(conn: sqlite3.Connection, run: Callable[[], list[Any]], busy_ms: int) -> list[Any] | None:
    """The rows, or None when the read must go to the connection's thread: it ran past the budget (SQLite
    stopped it) or met a lock (the busy timeout is 0 meanwhile: the loop must never sleep on a lock)."""
    deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
    over: list[bool] = []

    def progress() -> bool:
        if time.perf_counter() > deadline:
            over.append(True)
            return True  # SQLite aborts the statement with "interrupted"
        return False

    conn.execute("PRAGMA busy_timeout=0")
    conn.set_progress_handler(progress, PROGRESS_STEPS)
    try:
        return run()
    except sqlite3.OperationalError as exc:
        if over or exc.sqlite_errorcode in _LOCKED:
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)
        conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")


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
