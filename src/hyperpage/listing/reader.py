"""Run a compiled list statement on the database driver itself, with one pooled connection.

The SQLAlchemy pool still owns the connections (its size, timeouts, disposal and the per-process connection
budget of docs/operations.md stay as they are); a read borrows one and talks to the driver directly:
- SQLite: one hop to the connection's aiosqlite thread runs the statement and fetches every row (aiosqlite's
  own cursor API costs a hop for the cursor, the execute, the fetch and the close each);
- PostgreSQL: asyncpg's `fetch`, a prepared statement from asyncpg's statement cache, in one round trip and
  outside an explicit transaction (the SQLAlchemy adapter sends BEGIN and ROLLBACK around every read).
Errors come out as SQLAlchemy's, so db/outage.py tells an outage (503) from a bug (500) as for every query.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from hyperpage import metrics

_SELECT_SECONDS = metrics.DB_QUERY_DURATION.labels("select")


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
            rows = await _sqlite_fetch(driver, sql, params)
        else:
            rows = await _asyncpg_fetch(raw, driver, sql, params)
        _SELECT_SECONDS.observe(time.perf_counter() - started)
        return rows
    finally:
        await greenlet_spawn(raw.close)  # check-in: the pool's reset runs in SQLAlchemy's async context


async def _sqlite_fetch(driver: Any, sql: str, params: list[Any]) -> list[Any]:
    def run() -> list[Any]:
        fetched: list[Any] = driver._conn.execute(sql, params).fetchall()
        return fetched

    try:
        # aiosqlite's queue to its connection thread: one hop for the whole read
        rows: list[Any] = await driver._execute(run)
        return rows
    except sqlite3.Error as exc:
        raise sa_exc.DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


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
