"""Rows rendered to JSON by SQLite (listing/sqljson.py) are the bytes the ordinary path writes, for awkward data.

The ordinary path (driver rows -> dicts -> orjson) is what tests/api/test_list_golden.py holds to the bytes of
the pydantic/ORM code before it; here every list is read both ways and compared, page after page, over text that
needs escaping, arrays stored with \\u escapes, fractions of seconds, floats, and rows SQLite cannot render
exactly, which must make the page fall back. On PostgreSQL the two functions are one path: checked the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.db.session import create_engine
from hyperpage.issues import service as issues
from hyperpage.issues.schemas import IssueQuery
from hyperpage.listing.page import read_page, read_page_json
from hyperpage.listing.reader import fetch_rows
from hyperpage.listing.spec import Listing
from hyperpage.pipelines import service as pipelines
from hyperpage.pipelines.schemas import PipelineQuery
from hyperpage.reviews import service as reviews
from hyperpage.reviews.schemas import ReviewQuery
from tests import factories as f
from tests.conftest import make_settings

# every code point below 0x80, the escapes JSON names, and characters orjson writes as they are
AWKWARD = "".join(chr(c) for c in range(1, 0x80)) + " é ✓ \u2028 \U0001f600 \\u00e9"
LISTS = {
    "reviews": (reviews.LISTING, ReviewQuery),
    "pipelines": (pipelines.LISTING, PipelineQuery),
    "issues": (issues.LISTING, IssueQuery),
}


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        repo = await f.add_repository(s, connection=gh, full_name="acme/wéb")
        for n in range(7):
            when = f.BASE_TIME - timedelta(minutes=n // 2, microseconds=(0, 1, 123_456, 999_999)[n % 4])
            await f.add_pull_request(
                s,
                connection=(gh, gl)[n % 2],
                repository=(repo, None)[n % 2],
                title=AWKWARD + str(n),
                author=(None, "ålice")[n % 2],
                draft=n % 3 == 0,
                requested_reviewers=[["carol"], ["é", 'a"b', "c\\d", "\t"], []][n % 3],
                labels=[["bug", "ui"], [AWKWARD], []][n % 3],
                updated_at=when,
                merged_at=when if n % 2 else None,
            )
            await f.add_pipeline(
                s,
                connection=gh,
                repository=repo,
                name=AWKWARD,
                duration_seconds=(None, 0.1, 12.345678901234567, 3.0, 1e-7, 123456789.5, 2.5e20)[n],
                updated_at=when,
            )
            await f.add_issue(s, connection=gh, labels=[[], ["ü", "x"], [AWKWARD]][n % 3], updated_at=when)
    engine = create_engine(make_settings(db_url))
    yield engine
    await engine.dispose()


async def both_ways(engine: AsyncEngine, listing: Listing, query: Any) -> list[bytes]:
    """Every page of the list, following cursors, each read both ways and held equal."""
    pages = []
    while True:
        sort = listing.sorts[query.sort]
        rendered = await read_page_json(engine, listing, query, sort)
        ordinary = await read_page(engine, listing, query, sort)
        assert rendered == ordinary.json()
        pages.append(rendered)
        if ordinary.next_cursor is None:
            return pages
        query = query.model_copy(update={"cursor": ordinary.next_cursor})


@pytest.mark.parametrize("name", list(LISTS))
@pytest.mark.parametrize("sort", ["-updated_at", "created_at"])
async def test_rendered_pages_are_the_ordinary_bytes(engine: AsyncEngine, name: str, sort: str) -> None:
    listing, model = LISTS[name]
    pages = await both_ways(engine, listing, model(limit=2, sort=sort))
    assert len(pages) == 4  # seven rows, two a page: three cursors followed


async def _exact_flags(engine: AsyncEngine, listing: Listing, model: Any) -> list[int]:
    query = model(limit=50)
    plan, values = listing.statement(engine.dialect, query, listing.sorts[query.sort], False, rendered=True)
    rows = await fetch_rows(engine, plan.sql, plan.bind(values))
    return [row[len(listing.row_json().parts)] for row in rows]


@pytest.mark.parametrize("db_engine_name", ["sqlite"])  # PostgreSQL has no rendered rows
async def test_sqlite_renders_every_row_it_can(engine: AsyncEngine) -> None:
    for listing, model in LISTS.values():
        assert await _exact_flags(engine, listing, model) == [1] * 7


@pytest.mark.parametrize("db_engine_name", ["sqlite"])  # PostgreSQL holds no NUL, and instants as timestamptz
@pytest.mark.parametrize(
    "update",
    [
        "UPDATE pull_requests SET merged_at = '2026-11-01T12:00:00+02:00' WHERE id = 2",  # another client's text
        "UPDATE pull_requests SET updated_at = '2026-11-01 10:00:00' WHERE id = 3",  # no fraction
        "UPDATE pull_requests SET labels = '[\"a\\u0000b\"]' WHERE id = 4",  # json_each cuts at the NUL
    ],
)
async def test_a_row_sqlite_cannot_render_sends_its_page_the_ordinary_way(engine: AsyncEngine, update: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(update))
    flags = await _exact_flags(engine, reviews.LISTING, ReviewQuery)
    assert flags.count(0) == 1
    await both_ways(engine, reviews.LISTING, ReviewQuery(limit=50))
    await both_ways(engine, reviews.LISTING, ReviewQuery(limit=3))


async def test_a_list_stored_as_json_null_is_an_empty_list_on_every_path(engine: AsyncEngine) -> None:
    # the API's list fields are never null (schemas: list[str]); a JSON null (another writer's, or the JSON type's
    # None) reads as [] on PostgreSQL (page.py) and must on SQLite too, rendered or not
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE pull_requests SET requested_reviewers = 'null', labels = 'null' WHERE id = 2"))
    pages = await both_ways(engine, reviews.LISTING, ReviewQuery(limit=50))
    (row,) = [item for item in orjson.loads(pages[0])["items"] if item["id"] == 2]
    assert (row["requested_reviewers"], row["labels"]) == ([], [])
