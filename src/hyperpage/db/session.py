"""Async engines for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg), sessions, and query timing."""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from hyperpage import metrics
from hyperpage.config import Settings, async_url


def create_engine(settings: Settings, *, url: str | URL | None = None) -> AsyncEngine:
    """Build the engine for the configured database with a bounded pool."""
    target = async_url(str(url)) if isinstance(url, str) else (url or settings.sqlalchemy_url)
    kwargs: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_pre_ping": True,
        # orjson reads JSON columns several times faster than the stdlib; writing stays stdlib json so the
        # stored text (which backups checksum) keeps one format
        "json_deserializer": orjson.loads,
    }
    if target.get_backend_name() == "sqlite":
        ensure_sqlite_dir(target)
        # A local file cannot drop a connection; the ping cost an aiosqlite thread round trip per checkout.
        kwargs["pool_pre_ping"] = False
        # check_same_thread: the pool's check-in (_sqlite_reset) looks at the connection from the loop's thread
        kwargs["connect_args"] = {"timeout": max(settings.db_statement_timeout, 1.0), "check_same_thread": False}
        kwargs["pool_reset_on_return"] = None  # _sqlite_reset rolls back only what is open
        engine = create_async_engine(target, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(settings))
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
    else:
        kwargs["connect_args"] = _pg_connect_args(settings)
        kwargs["pool_recycle"] = 1800
        engine = create_async_engine(target, **kwargs)
        _ping_only_when_idle(engine)
    _time_queries(engine)
    return engine


def create_listen_engine(settings: Settings) -> AsyncEngine | None:
    """PostgreSQL only: an engine without a pool for the one long-lived LISTEN connection (db/changes.py)."""
    if settings.db_engine != "postgresql":
        return None
    connect_args = _pg_connect_args(settings)
    connect_args["server_settings"] = {"application_name": "hyperpage-listen"}  # no statement timeout
    url = settings.sqlalchemy_url
    if settings.hyperpage_listen_database_url is not None:
        url = async_url(settings.hyperpage_listen_database_url.get_secret_value())
    return create_async_engine(url, poolclass=NullPool, connect_args=connect_args)


def _pg_connect_args(settings: Settings) -> dict[str, Any]:
    # jit off: our reads are short, and PostgreSQL compiles any plan it estimates costly (a correlated subquery
    # over many rows) before running it: 0.5 s of LLVM work for the 1 s insights query it was meant to speed up
    # DateStyle ISO: the lists select instants as text in that form (listing/pgsql.py), whatever the database's
    # default; a connection's own settings outrank the role's and the database's
    server_settings = {"application_name": "hyperpage", "jit": "off", "DateStyle": "ISO"}
    if settings.db_statement_timeout:
        server_settings["statement_timeout"] = str(int(settings.db_statement_timeout * 1000))
    return {"server_settings": server_settings, "timeout": settings.db_pool_timeout}


def ensure_sqlite_dir(url: URL) -> None:
    """Create the folder of a SQLite file (./data/ by default) so a first run just works."""
    path = sqlite_file(url)
    if path is not None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sqlite_file(url: URL) -> str | None:
    """The file of a SQLite database; None for one in memory or given as a `file:` URI (its options are its own)."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    if url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return url.database


def connect_sqlite_reader(path: str, *, timeout: float) -> sqlite3.Connection:
    """A plain connection that only reads: read-only (never creates a stray file) and autocommit (no read snapshot
    held between statements, which would stall checkpoints); one thread at a time uses it."""
    uri = "file:" + urllib.parse.quote(path) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)


def _sqlite_pragmas(settings: Settings) -> Callable[[Any, Any], None]:
    busy_ms = int(max(settings.db_statement_timeout, 1.0) * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the web server read while the in-process sync writes; NORMAL is durable in WAL mode.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return on_connect


def _sqlite_reset(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
    """Check-in: roll back only a connection inside a transaction. The pool's unconditional rollback cost a
    hop to the aiosqlite thread per request even after a plain read, which opens no transaction."""
    if reset_state.terminate_only:
        return
    try:
        open_transaction = dbapi_connection._connection._conn.in_transaction
    except ValueError:  # aiosqlite: the connection is already closed
        return
    if open_transaction:
        dbapi_connection.rollback()


# HikariCP's aliveBypassWindowMs (500 ms) in spirit: a connection that was in use a moment ago is alive; the
# ping (BEGIN, a query, ROLLBACK: three round trips on asyncpg) is kept for connections that sat idle, which
# is when a restart or failover can have cut them. A connection cut within the window fails one query and is
# invalidated (SQLAlchemy's disconnect handling, or listing/reader.py); the next checkout reconnects.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_only_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.dialect
    ping = dialect.do_ping
    checked_in: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def do_ping(dbapi_connection: Any) -> bool:
        returned = checked_in.get(dbapi_connection._connection)
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return True
        return ping(dbapi_connection)

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:  # None: the connection was invalidated
            checked_in[dbapi_connection._connection] = time.monotonic()

    dialect.do_ping = do_ping  # type: ignore[method-assign]
    event.listen(engine.sync_engine, "checkin", on_checkin)


def _time_queries(engine: AsyncEngine) -> None:
    def before(conn: Any, _cursor: Any, _stmt: str, _params: Any, _context: Any, _many: bool) -> None:
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    def after(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        started = conn.info["query_start"].pop()
        metrics.DB_QUERY_DURATION.labels(_operation(statement)).observe(time.perf_counter() - started)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)


_OPERATIONS = ("select", "insert", "update", "delete")


def _operation(statement: str) -> str:
    head = statement.lstrip()[:6].lower()
    return head if head in _OPERATIONS else "other"


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
