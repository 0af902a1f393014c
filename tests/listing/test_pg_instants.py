"""PostgreSQL's pages read for their JSON bytes take UTC instants as text (listing/pgsql.py): the same bytes as the
ordinary path, which decodes datetimes and lets orjson write them, for every fraction length and year PostgreSQL
can hold; text of any other form sends the page the ordinary way.

The forms are PostgreSQL's own: a timestamp's output in DateStyle ISO is `1997-12-17 07:37:16` with the fraction's
trailing zeros left out, and the other styles write `12/17/1997 07:37:16.00` (SQL), `Wed Dec 17 07:37:16 1997`
(Postgres) and `17.12.1997 07:37:16.00` (German): PostgreSQL's documentation, "Date/Time Output" (8.5.2), whose
table shows the styles; years before 1 carry ` BC`, and `infinity` is its own word ("Special Values", 8.5.1.4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.db.session import create_engine
from hyperpage.listing.page import read_page, read_page_json
from hyperpage.listing.pgsql import NotExact, finish_instant
from hyperpage.reviews import service as reviews
from hyperpage.reviews.schemas import ReviewQuery
from tests import factories as f
from tests.conftest import make_settings
from tests.listing.test_sqljson import both_ways

PG = pytest.mark.parametrize("db_engine_name", ["postgresql"])  # SQLite renders rows itself (test_sqljson.py)

# every length of fraction PostgreSQL writes (none, 1..6 digits), and the first and last years datetime holds
MOMENTS = [
    datetime(2026, 11, 1, 12, 0, tzinfo=UTC) + timedelta(microseconds=us)
    for us in (0, 500_000, 120_000, 123_000, 123_400, 123_450, 123_456, 1, 10, 999_999)
] + [
    datetime(1, 1, 1, 2, tzinfo=UTC),
    datetime(99, 3, 4, 5, 6, 7, 80, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
]


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        for n, moment in enumerate(MOMENTS):
            await f.add_pull_request(
                s, connection=gh, updated_at=moment, created_at=MOMENTS[-1 - n], merged_at=moment if n % 2 else None
            )
    engine = create_engine(make_settings(db_url))
    yield engine
    await engine.dispose()


@PG
@pytest.mark.parametrize("sort", ["-updated_at", "created_at"])
async def test_every_fraction_and_year_is_written_as_the_ordinary_path_writes_it(
    engine: AsyncEngine, sort: str
) -> None:
    pages = await both_ways(engine, reviews.LISTING, ReviewQuery(limit=3, sort=sort))
    assert len(pages) == 5  # 13 rows, 3 a page: the cursors made from text instants lead on exactly as before
    written = [item["updated_at"] for page in pages for item in orjson.loads(page)["items"]]
    assert "2026-11-01T12:00:00.500000Z" in written and "0099-03-04T05:06:07.000080Z" in written


@PG
async def test_the_rendered_read_takes_text_and_needs_no_fallback(engine: AsyncEngine) -> None:
    query = ReviewQuery(limit=50)
    page = await read_page(engine, reviews.LISTING, query, reviews.LISTING.sorts[query.sort], rendered=True)
    assert {type(item["updated_at"]) for item in page.items} == {str}  # no datetime decoded, no NotExact raised


@PG
async def test_connections_read_iso_whatever_the_database_default(engine: AsyncEngine) -> None:
    # a database (or role) may default to another style; the text form needs ISO on our own connections
    name = engine.url.database
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER DATABASE \"{name}\" SET DateStyle = 'German, DMY'"))
    await engine.dispose()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SHOW DateStyle"))).scalar_one().startswith("ISO")
    await test_the_rendered_read_takes_text_and_needs_no_fallback(engine)


# What the ordinary path answers for each (asyncpg's decoder): the infinities as datetime's naive extremes, which
# orjson writes without a zone; years Python cannot hold as OverflowError. The rendered read must answer the same.
SPECIAL = [
    ("infinity", b'"merged_at":"9999-12-31T23:59:59.999999"'),
    ("-infinity", b'"merged_at":"0001-01-01T00:00:00"'),
    ("0044-03-15 12:00:00+00 BC", OverflowError),
    ("10000-01-01 00:00:00+00", OverflowError),
]


@PG
@pytest.mark.parametrize(("special", "ordinary"), SPECIAL)
async def test_an_instant_the_text_cannot_stand_for_sends_the_page_the_ordinary_way(
    engine: AsyncEngine, special: str, ordinary: bytes | type[Exception]
) -> None:
    async with engine.begin() as conn:
        update = "UPDATE pull_requests SET merged_at = CAST(:v AS text)::timestamptz WHERE id = 2"
        await conn.execute(text(update), {"v": special})
    query = ReviewQuery(limit=50)
    sort = reviews.LISTING.sorts[query.sort]
    with pytest.raises(NotExact):
        await read_page(engine, reviews.LISTING, query, sort, rendered=True)
    if isinstance(ordinary, bytes):
        expected = (await read_page(engine, reviews.LISTING, query, sort)).json()
        assert ordinary in expected
        assert await read_page_json(engine, reviews.LISTING, query, sort) == expected
    else:
        with pytest.raises(ordinary):
            await read_page(engine, reviews.LISTING, query, sort)
        with pytest.raises(ordinary):
            await read_page_json(engine, reviews.LISTING, query, sort)


@pytest.mark.parametrize(
    "written",
    [
        "12/17/1997 07:37:16.00",  # SQL
        "Wed Dec 17 07:37:16 1997",  # Postgres
        "17.12.1997 07:37:16.00",  # German
        "17.12.1997 07:37:16",
        "0044-03-15T12:00:00 BC",
        "0044-03-15T12:00:00.5 BC",
        "10000-01-01T00:00:00",
        "infinity",
        "-infinity",
    ],
)
def test_text_of_another_form_is_refused(written: str) -> None:
    with pytest.raises(NotExact):
        finish_instant(written)
