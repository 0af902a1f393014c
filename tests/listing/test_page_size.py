"""Each page size reads its own rows, and PostgreSQL plans a list's statement once per connection.

On PostgreSQL the page size is a literal in the SQL (listing/spec.py): with `LIMIT $n` the server estimated a
plan for any page size as costly, so it planned the statement anew at every read (a custom plan).
pg_prepared_statements counts, per statement of the session, the generic plans it reused.
"""

from __future__ import annotations

from sqlalchemy.util import greenlet_spawn

from hyperpage.db.session import create_engine
from hyperpage.listing.page import read_list
from hyperpage.reviews.schemas import ReviewQuery
from hyperpage.reviews.service import LISTING
from tests import factories as f
from tests.conftest import make_settings

SIZES = (3, 5)
READS = 8  # PostgreSQL weighs a generic plan after the fifth execution of a statement


async def test_page_sizes_read_their_rows_and_postgresql_reuses_its_plans(db_url: str) -> None:
    await f.seed_pull_requests(db_url, 12)
    engine = create_engine(make_settings(db_url, db_pool_size=1, db_max_overflow=0))  # one session to look into
    try:
        for _ in range(READS):
            for size in SIZES:
                page = await read_list(engine, LISTING, ReviewQuery(limit=size))
                assert len(page.items) == size and page.next_cursor is not None
        if engine.dialect.name != "postgresql":
            return
        raw = await engine.raw_connection()
        try:
            plans = await raw.driver_connection.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%FROM pull_requests%LIMIT%' AND statement NOT LIKE '%pg_prepared%'"
            )
        finally:
            await greenlet_spawn(raw.close)
    finally:
        await engine.dispose()
    assert len(plans) == len(SIZES)
    assert all(p["generic_plans"] >= READS - 5 for p in plans), [dict(p) for p in plans]
