"""Tell a database that is down (retry later: 503) from a bug (500), from the exception a request raised.

What each driver raises when the database goes away, as seen against a stopped PostgreSQL 15 and an
unopenable SQLite file (tests/api/test_unhandled_errors.py):
- asyncpg raises ConnectionRefusedError (an OSError) from connect(), unwrapped by SQLAlchemy; a pooled
  connection cut by the server surfaces as sqlalchemy.exc.InterfaceError/DBAPIError with connection_invalidated;
- sqlite3 raises OperationalError ("unable to open database file", "database is locked", "disk I/O error"),
  wrapped in sqlalchemy.exc.OperationalError;
- the pool raises sqlalchemy.exc.TimeoutError when no connection frees up within DB_POOL_TIMEOUT.
A bare OSError counts only when it was raised inside a database driver: an OSError from anything else is a bug.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc as sa_exc

RETRY_AFTER_SECONDS = 5
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
_DRIVER_MODULES = ("asyncpg", "aiosqlite", "sqlite3", "sqlalchemy")


def _driver_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.InterfaceError)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.split(".")[0] in _DRIVER_MODULES:
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached or opened right now."""
    driver_errors = _driver_errors()
    for err in _chain(exc):
        if isinstance(err, _UNAVAILABLE):
            return True
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, driver_errors) and _raised_in_driver(err.__traceback__):
            return True
    return False


def outage_reason(exc: BaseException) -> str:
    """The driver's own words for the outage, first line only (no statement, no parameters)."""
    for err in _chain(exc):
        if isinstance(err, sa_exc.DBAPIError) and err.orig is not None:
            return str(err.orig).splitlines()[0][:200] or type(err.orig).__name__
    root = _chain(exc)[-1]
    return (str(root).splitlines() or [""])[0][:200] or type(root).__name__
