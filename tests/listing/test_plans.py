"""A list's SQL is compiled once per shape and dialect; a request only binds its values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from hyperpage.listing import spec
from hyperpage.reviews.schemas import ReviewQuery
from hyperpage.reviews.service import LISTING

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.asyncpg.dialect()}


@pytest.fixture(autouse=True)
def _no_plans() -> None:
    LISTING._plans.clear()


@pytest.mark.parametrize("name", list(DIALECTS))
def test_one_plan_per_shape_whatever_the_values(name: str) -> None:
    dialect = DIALECTS[name]
    sort = LISTING.sorts[ReviewQuery().sort]
    first, values = LISTING.statement(dialect, ReviewQuery(author="alice", q="fix 12", limit=5), sort, False)
    again, other = LISTING.statement(dialect, ReviewQuery(author="bob", q="speed 99", limit=5), sort, False)
    assert first is again and len(LISTING._plans) == 1
    assert values["author"] == "alice" and other["author"] == "bob"
    assert values["term_0"] == "fix" and values["number_1"] == "12" and values[spec.LIMIT] == 6
    # a term that is no number, or one more filter, is another shape
    LISTING.statement(dialect, ReviewQuery(author="bob", q="speed up"), sort, False)
    LISTING.statement(dialect, ReviewQuery(author="bob", q="speed 99", state="OPEN"), sort, False)
    assert len(LISTING._plans) == 3


@pytest.mark.parametrize("name", list(DIALECTS))
def test_postgresql_writes_the_page_size_into_the_sql(name: str) -> None:
    # PostgreSQL plans `LIMIT $n` anew at every execution (test_page_size.py); SQLite binds it
    sort = LISTING.sorts[ReviewQuery().sort]
    five, _ = LISTING.statement(DIALECTS[name], ReviewQuery(limit=5), sort, False)
    fifty, _ = LISTING.statement(DIALECTS[name], ReviewQuery(limit=50), sort, False)
    if name == "postgresql":
        assert five.sql.endswith("LIMIT 6") and fifty.sql.endswith("LIMIT 51") and spec.LIMIT not in five.names
    else:
        assert five is fifty and spec.LIMIT in five.names


@pytest.mark.parametrize("name", list(DIALECTS))
def test_values_bind_in_order_through_the_column_types(name: str) -> None:
    since = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    query = ReviewQuery(updated_since=since, reviewer="carol", q="50%_off", draft=True)
    plan, values = LISTING.statement(DIALECTS[name], query, LISTING.sorts[query.sort], False)
    bound = plan.bind(values)
    assert len(bound) == len(plan.names)
    assert "50/%/_off" in bound  # % and _ are literal in a search term
    # SQLite keeps instants as UTC text in SQLAlchemy's format, PostgreSQL takes them aware; a list filter binds
    # JSON on PostgreSQL
    assert ("2026-11-01 12:00:00.000000" if name == "sqlite" else since) in bound
    assert ("carol" if name == "sqlite" else '["carol"]') in bound
    assert "IS 1" in plan.sql or "IS true" in plan.sql  # booleans are inlined: `IS $1` is not valid on PostgreSQL


def test_the_plan_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec, "MAX_PLANS", 2)
    dialect, sort = DIALECTS["sqlite"], LISTING.sorts[ReviewQuery().sort]
    for q in ("a", "a b", "a b c", "a b c d"):
        LISTING.statement(dialect, ReviewQuery(q=q), sort, False)
    assert len(LISTING._plans) <= 2
