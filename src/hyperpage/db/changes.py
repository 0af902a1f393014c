"""A data version that changes whenever committed data may have changed: what the API response cache keys on.

SQLite: `PRAGMA data_version` on a dedicated read connection changes when any other connection, in this process
or another, commits. One call costs a few microseconds, so every request asks.
PostgreSQL: statement triggers (migration 0002) `NOTIFY hyperpage_data_changed` on every write to the tables the
API lists; a dedicated connection LISTENs. While it is not listening (start-up, connection lost) the version is
None and the cache is bypassed, so a lost notification can never leave a stale page behind.
Both also count commits made through any SQLAlchemy engine of this process: a notification arrives a little after
its commit, and a read that follows a write in the same process must not see the old page meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
import weakref
from collections.abc import Hashable
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.db.session import connect_sqlite_reader, sqlite_file
from hyperpage.logging import get_logger

log = get_logger(__name__)

CHANNEL = "hyperpage_data_changed"
KEEPALIVE_SECONDS = 30.0  # a silently dropped LISTEN connection is noticed at the next probe
_PROBE = "probe:"
_HAS_TRIGGERS = (
    "SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
    "WHERE p.proname = 'hyperpage_notify_data_changed')"
)


class _LocalCommits:
    count = 0


# The connections whose open transaction ran a statement that may have changed data. A set beside them, not
# Connection.info: that property goes through Connection.connection, which on a connection invalidated by a
# cancelled statement tries to reconnect and raises PendingRollbackError from inside the rollback hook. That
# error then replaced the CancelledError, `except Exception` handlers took the cancellation for a database error,
# and a cancelled task carried on (the LISTEN task re-listened while stop() waited for it: a hung shutdown).
_writers: weakref.WeakSet[Any] = weakref.WeakSet()


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
    # Anything but a SELECT counts as a write (PRAGMA, WITH, a leading comment too): erring that way costs a miss,
    # never a stale page. None of our SELECTs change data.
    if statement.lstrip()[:6].upper() != "SELECT":
        _writers.add(conn)


@event.listens_for(Engine, "commit")
def _count_commit(conn: Any) -> None:
    # Only a transaction that wrote: read-only sessions also commit (session_scope on every metrics scrape, the
    # LISTEN probe every 30 s), and counting those emptied the whole cache each time (measured: one miss per
    # scrape). Fires just before the commit: a reader racing it may cache the old rows under the new count, but
    # the external version (data_version / NOTIFY) moves once the commit is visible and retires that entry.
    if conn in _writers:
        _writers.discard(conn)
        _LocalCommits.count += 1


@event.listens_for(Engine, "rollback")
def _forget_writes(conn: Any) -> None:
    _writers.discard(conn)  # rolled back: nothing it wrote is visible to anyone


class DataChanges(Protocol):
    def version(self) -> Hashable | None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class NoChanges:
    """No reliable change signal (in-memory SQLite): every request is a cache bypass."""

    def version(self) -> Hashable | None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class SqliteChanges:
    """`PRAGMA data_version`, read at most once per pass of the event loop.

    A value is kept until a callback queued when it was read runs (call_soon: the next pass). A request that
    arrives after the read gets its task then, queued behind that callback, so it reads anew: every request still
    sees every commit that ended before it arrived. Reading it per request was ~10 % of a cached page's CPU
    (py-spy under wrk -c32: the call releases the GIL and waits to get it back), and one pass under load serves
    many requests.
    """

    def __init__(self, url: URL) -> None:
        self._path = url.database or ""
        self._conn: sqlite3.Connection | None = None
        self._failing = False
        self._pass_version: int | None = None  # the value read in the current loop pass; None: read it

    def version(self) -> Hashable | None:
        if self._pass_version is None:
            data_version = self._read()
            if data_version is None:
                return None
            try:
                asyncio.get_running_loop().call_soon(self._end_pass)  # runs at the start of the next pass
                self._pass_version = data_version
            except RuntimeError:  # no running loop (a script, a synchronous test): no pass to share it with
                return (_LocalCommits.count, data_version)
        return (_LocalCommits.count, self._pass_version)

    def _end_pass(self) -> None:
        self._pass_version = None

    def _read(self) -> int | None:
        try:
            if self._conn is None:
                # read-only (never creates a stray file), autocommit, and a short timeout: a reader never waits
                # long on a checkpoint, it bypasses the cache instead
                self._conn = connect_sqlite_reader(self._path, timeout=0.05)
            # fetchall, not fetchone: an unfinished statement would hold a read snapshot and stall checkpoints
            ((data_version,),) = self._conn.execute("PRAGMA data_version").fetchall()
        except sqlite3.Error as exc:
            if not self._failing:  # once per outage, not once per request
                log.warning("data_version_unavailable", error=str(exc))
            self._failing = True
            self._close()
            return None
        self._failing = False
        return int(data_version)

    async def start(self) -> None:
        self.version()

    async def stop(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresChanges:
    def __init__(
        self,
        engine: AsyncEngine,
        notify_engine: AsyncEngine,
        *,
        retry_max_seconds: float = 30.0,
        probe_timeout: float = 5.0,
    ) -> None:
        self._engine = engine  # a dedicated engine: the LISTEN connection is held for the process's life
        self._notify_engine = notify_engine  # the path writers take (maybe through a pooler)
        self._retry_max = retry_max_seconds
        self._probe_timeout = probe_timeout
        self._probes: dict[str, asyncio.Event] = {}
        self._listening = False
        self._generation = 0
        self._notified = 0
        self.last_error: str | None = None  # why the cache is bypassed, in words; None while listening
        self._task: asyncio.Task[None] | None = None

    def version(self) -> Hashable | None:
        if not self._listening:
            return None
        return (_LocalCommits.count, self._generation, self._notified)

    @property
    def listening(self) -> bool:
        return self._listening

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hyperpage-data-changes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._engine.dispose()

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._listen()
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database down or connection lost: bypass the cache until back
                self.last_error = str(exc) or type(exc).__name__
                log.warning(
                    "data_changes_listener_lost", error=type(exc).__name__, detail=str(exc)[:200], retry_in_s=delay
                )
            finally:
                self._listening = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _listen(self) -> None:
        async with self._engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            if raw is None:  # the pool hands out no connection once invalidated
                raise ConnectionError("the pooled connection was invalidated before LISTEN")
            lost = asyncio.Event()
            raw.add_termination_listener(lambda _c: lost.set())
            await raw.add_listener(CHANNEL, self._on_notify)
            # before migration 0002 nobody notifies: listening then would serve stale pages, so bypass instead
            if not await raw.fetchval(_HAS_TRIGGERS):
                raise LookupError(
                    "no change triggers in this database (schema before 0002): run `hyperpage db upgrade`"
                )
            # Only a notification that came round proves the signal works: LISTEN through a transaction-mode
            # PgBouncer, or on another database or a replica, succeeds and then never hears anything.
            await self._probe()
            # anything may have changed while nobody listened: a new generation retires every cached entry
            self._generation += 1
            self._listening = True
            self.last_error = None
            log.info("data_changes_listening", channel=CHANNEL)
            while not lost.is_set():
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for could leave this task stuck when cancelled
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await lost.wait()
                except TimeoutError:
                    await self._probe()  # also notices a dead socket: the probe cannot arrive
            raise ConnectionError("LISTEN connection closed")

    async def _probe(self) -> None:
        payload = f"{_PROBE}{uuid.uuid4().hex}"
        arrived = self._probes[payload] = asyncio.Event()
        try:
            async with self._notify_engine.connect() as conn:
                await conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
                )
                await conn.commit()
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await arrived.wait()
            except TimeoutError:  # only the wait: a timeout sending the probe is a database error, said as such
                raise LookupError(
                    "a probe NOTIFY sent through DATABASE_URL did not reach the LISTEN connection: it is not a "
                    "session on the same primary database (a transaction-mode pooler?); set "
                    "HYPERPAGE_LISTEN_DATABASE_URL to a direct connection"
                ) from None
        finally:
            del self._probes[payload]

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(_PROBE):  # every process's probes reach every listener; they change no data
            if (event := self._probes.get(payload)) is not None:
                event.set()
            return
        self._notified += 1


def data_changes(url: URL, listen_engine: AsyncEngine | None, engine: AsyncEngine | None = None) -> DataChanges:
    """The change signal for this database. PostgreSQL: `listen_engine` holds the LISTEN connection (no pool),
    `engine` is the app's own, through which the probe notification is sent."""
    if url.get_backend_name() == "sqlite":
        if sqlite_file(url) is None:
            return NoChanges()
        return SqliteChanges(url)
    if listen_engine is None or engine is None:
        raise ValueError("PostgreSQL change detection needs a dedicated LISTEN engine and the app's engine")
    return PostgresChanges(listen_engine, engine)
