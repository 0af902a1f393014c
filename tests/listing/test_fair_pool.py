"""List reads wait for a pooled connection in arrival order (reader.FairGates).

SQLAlchemy's asyncio pool is not fair: a connection checked in wakes the longest waiter, but a read that asks
before that waiter runs takes it (the queue's get_nowait fast path), and the waiter queues again at the end. A
task reading back to back kept the pool's one connection for all its reads while another waited: under load
(wrk -c32 on a pool of 10) reads waited out the pool timeout and failed with 503. On SQLite the reads go to the
pool through a `file:` URI (reader._open gives such a database no loop connection), as a read that runs over
the loop's budget does.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from hyperpage.db.session import create_engine
from hyperpage.listing import reader
from tests import factories as f
from tests.conftest import make_settings

SQL = "SELECT number FROM pull_requests ORDER BY number"
READS = 10


def _pooled_url(db_url: str) -> str:
    if db_url.startswith("sqlite:///"):
        return "sqlite:///file:" + db_url.removeprefix("sqlite:///") + "?uri=true"
    return db_url


async def test_a_waiting_read_gets_the_connection_before_a_later_one(db_url: str) -> None:
    await f.seed_pull_requests(db_url, 3)
    settings = make_settings(_pooled_url(db_url), db_pool_size=1, db_max_overflow=0, db_pool_timeout=5.0)
    engine = create_engine(settings)
    order: list[str] = []
    first_read_started = asyncio.Event()

    async def back_to_back() -> None:
        for n in range(READS):
            if n == 0:
                first_read_started.set()
            assert [row[0] for row in await reader.fetch_rows(engine, SQL, [])] == [0, 1, 2]
            order.append("A")

    async def one_read() -> None:
        await first_read_started.wait()  # A holds the pool's one connection now
        assert [row[0] for row in await reader.fetch_rows(engine, SQL, [])] == [0, 1, 2]
        order.append("B")

    try:
        await asyncio.gather(back_to_back(), one_read())
    finally:
        await engine.dispose()
    # B asked while A's first read ran: B's read comes next, not after all of A's
    assert order[:3] == ["A", "B", "A"]


async def test_a_read_hands_its_connection_to_the_next_waiting_read(db_url: str) -> None:
    # two readers back to back on a pool of one: each read ends with the other waiting, so the connection goes
    # from one to the next without a check-in and a checkout; the last read, with nobody waiting, checks it in
    await f.seed_pull_requests(db_url, 1)
    engine = create_engine(make_settings(_pooled_url(db_url), db_pool_size=1, db_max_overflow=0))
    checkouts: list[int] = []
    event.listen(engine.sync_engine, "checkout", lambda *_: checkouts.append(1))

    async def reads() -> None:
        for _ in range(READS):
            assert [row[0] for row in await reader.fetch_rows(engine, SQL, [])] == [0]

    try:
        await asyncio.gather(reads(), reads())
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's
    finally:
        await engine.dispose()
    assert len(checkouts) == 1
