"""PostgreSQL plans a filtered page once per connection: the filter and search values are written into the SQL
(listing/pgsql.py), so the statement has no parameter left to plan a custom plan for at every read.

pg_prepared_statements counts, per statement of the session, the generic plans it reused and the custom plans
it made. The values written into the SQL must mean exactly what they meant as parameters: the escaping is held
to the server's own reading of them, with standard_conforming_strings on and off.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.util import greenlet_spawn

from hyperpage.db.session import create_engine
from hyperpage.listing import pgsql
from hyperpage.listing.page import read_list
from hyperpage.reviews.schemas import ReviewQuery
from hyperpage.reviews.service import LISTING
from tests import factories as f
from tests.conftest import make_settings

READS = 8  # PostgreSQL weighs a generic plan after the fifth execution of a statement with parameters
AWKWARD = ["it's", "back\\slash", "\\'; SELECT 1; --", "$1", "50%_off", "jörg 🚀", 'say "hi"', "tab\there", "E'x'"]


async def _prepared(engine: Any) -> list[dict[str, Any]]:
    raw = await engine.raw_connection()
    try:
        rows = await raw.driver_connection.fetch(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%FROM pull_requests%WHERE%' AND statement NOT LIKE '%pg_prepared%'"
        )
    finally:
        await greenlet_spawn(raw.close)
    return [dict(row) for row in rows]


async def test_filtered_pages_find_their_rows_and_postgresql_plans_them_once(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        conn = await f.add_connection(s, tool="github")
        for index, word in enumerate(AWKWARD):
            await f.add_pull_request(
                s, connection=conn, title=f"fix {word}", author=word, requested_reviewers=[word, f"other{index}"]
            )
    queries = [ReviewQuery(reviewer=word, limit=5) for word in AWKWARD]
    queries += [ReviewQuery(author=word, q=word, state="OPEN", limit=5) for word in AWKWARD]
    engine = create_engine(make_settings(db_url, db_pool_size=1, db_max_overflow=0))  # one session to look into
    try:
        for _ in range(READS):
            for query in queries:
                page = await read_list(engine, LISTING, query)
                word = query.reviewer or query.author
                assert [row["author"] for row in page.items] == [word], query
        plans = await _prepared(engine) if engine.dialect.name == "postgresql" else []
    finally:
        await engine.dispose()
    if engine.dialect.name != "postgresql":
        return
    assert all(p["custom_plans"] == 0 and p["generic_plans"] == READS for p in plans), plans
    assert len(plans) == len(queries)  # one statement per filter value


async def test_values_written_into_the_sql_read_back_as_themselves(db_url: str) -> None:
    engine = create_engine(make_settings(db_url))
    try:
        if engine.dialect.name != "postgresql":
            plan, _ = LISTING.statement(
                engine.dialect, ReviewQuery(author="x"), LISTING.sorts[ReviewQuery().sort], False
            )
            assert plan.inliner is None  # SQLite plans no statement per execution: its values stay bound
            return
        # NUL (no query text can hold it) and booleans stay parameters
        assert pgsql.literal("a\x00b") is None and pgsql.literal(True) is None and pgsql.literal(1.5) is None
        values = [*AWKWARD, "", "\\", "''", 0, 7, -3]
        sql = "SELECT " + ", ".join(f"${n}::TEXT AS v{n}, $1::TEXT AS again{n}" for n in range(1, len(values) + 1))
        inliner = pgsql.inliner(sql, tuple(f"p{n}" for n in range(len(values))), kept=["p3"])
        rendered, left = inliner.render(values)
        assert left == [values[3]]  # kept by name (a keyset cursor's values)
        raw = await engine.raw_connection()
        try:
            for conforming in ("on", "off"):
                await raw.driver_connection.execute(f"SET standard_conforming_strings = {conforming}")
                row = await raw.driver_connection.fetchrow(rendered, *left)
                read = [row[f"v{n}"] for n in range(1, len(values) + 1)]
                assert read == [v if isinstance(v, str) else str(v).lower() for v in values], conforming
                assert {row[f"again{n}"] for n in range(1, len(values) + 1)} == {values[0]}
        finally:
            await raw.driver_connection.execute("RESET standard_conforming_strings")
            await greenlet_spawn(raw.close)
    finally:
        await engine.dispose()
