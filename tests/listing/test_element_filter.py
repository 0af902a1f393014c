"""Element filters (reviewer, label): a row matches when its JSON array holds the value as one whole element.

On SQLite the arrays are walked only in rows whose stored text contains the value (spec.has_element): these
tests hold the answers to whole-element equality for values that JSON writers escape and for substrings of
other elements, on both engines.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from hyperpage.db.session import create_engine
from hyperpage.listing.page import read_list
from hyperpage.reviews.schemas import ReviewQuery
from hyperpage.reviews.service import LISTING
from tests import factories as f
from tests.conftest import make_settings

REVIEWERS: list[list[str] | None] = [
    ["carol"],
    ["carol-ext", "dave"],
    ["jörg"],  # stored as "j\u00f6rg" by the stdlib writer
    ["a/b"],
    ['say "hi"'],
    ["back\\slash"],
    ["tab\there"],
    ["j\u00f6rg-not"],
    None,
    [],
]


async def test_a_row_matches_only_a_whole_element_of_its_array(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        conn = await f.add_connection(s, tool="github")
        ids = []
        for reviewers in REVIEWERS:
            ids.append((await f.add_pull_request(s, connection=conn, requested_reviewers=reviewers)).id)
    engine = create_engine(make_settings(db_url))
    try:

        async def matching(value: str) -> set[int]:
            page = await read_list(engine, LISTING, ReviewQuery(reviewer=value, limit=200))
            return {row["id"] for row in page.items}

        expected: dict[str, set[int]] = {}
        for index, reviewers in enumerate(REVIEWERS):
            for name in reviewers or []:
                expected.setdefault(name, set()).add(ids[index])
        for value in [*expected, "caro", "carol-", "dave", "j", "hi", '"carol"', "nobody"]:
            assert await matching(value) == expected.get(value, set()), value
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("value", "looked_for"),
    [("carol", "carol"), ("Carol O'Neil", "Carol O'Neil"), ("jörg", ""), ("a/b", ""), ('x"y', ""), ("t\tb", "")],
)
def test_sqlite_looks_for_the_value_in_the_text_only_when_no_writer_escapes_it(value: str, looked_for: Any) -> None:
    query = ReviewQuery(reviewer=value)
    plan, values = LISTING.statement(sqlite.dialect(), query, LISTING.sorts[query.sort], False)
    assert "instr(pull_requests.requested_reviewers, ?)" in plan.sql
    assert values["reviewer_text"] == looked_for and values["reviewer"] == value


async def test_arrays_read_back_as_lists(db_url: str) -> None:
    # PostgreSQL sends the arrays as text, parsed by page.py (spec._output); a JSON null is the API's [] on both
    async with f.db_session(db_url) as s:
        conn = await f.add_connection(s, tool="github")
        for reviewers in REVIEWERS:
            await f.add_pull_request(s, connection=conn, requested_reviewers=reviewers, labels=["x", 'y "z"'])
    engine = create_engine(make_settings(db_url))
    try:
        page = await read_list(engine, LISTING, ReviewQuery(limit=200, sort="updated_at"))
    finally:
        await engine.dispose()
    read = [row["requested_reviewers"] for row in page.items]
    assert [r for r, stored in zip(read, REVIEWERS, strict=True) if stored is not None] == [
        r for r in REVIEWERS if r is not None
    ]
    assert read[REVIEWERS.index(None)] == []
    assert all(row["labels"] == ["x", 'y "z"'] for row in page.items)
