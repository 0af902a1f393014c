"""A synced list is declared from its API row dataclass: its fields are the columns, their types the JSON kinds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from hyperpage.issues.schemas import IssueOut
from hyperpage.issues.service import LISTING as ISSUES
from hyperpage.listing.common import synced_listing
from hyperpage.listing.spec import Search
from hyperpage.pipelines.models import Pipeline, PipelineResult, PipelineStatus
from hyperpage.pipelines.schemas import PipelineOut, PipelineSort
from hyperpage.pipelines.service import LISTING as PIPELINES
from hyperpage.reviews.schemas import ReviewOut
from hyperpage.reviews.service import LISTING as REVIEWS


@pytest.mark.parametrize("listing, out", [(REVIEWS, ReviewOut), (PIPELINES, PipelineOut), (ISSUES, IssueOut)])
def test_the_columns_are_the_api_rows_fields_in_order(listing, out) -> None:
    assert [c.name for c in listing.columns] == [f.name for f in dataclasses.fields(out)]


def test_each_field_is_written_as_its_type_says() -> None:
    kinds = {c.name: c.kind for c in REVIEWS.columns}
    assert kinds["created_at"] == kinds["merged_at"] == kinds["synced_at"] == "time"  # datetime, datetime | None
    assert kinds["labels"] == kinds["requested_reviewers"] == "list"
    assert kinds["draft"] == "bool"
    assert kinds["number"] == kinds["state"] == kinds["author"] == "plain"
    assert {c.name: c.kind for c in PIPELINES.columns}["duration_seconds"] == "plain"


def test_typed_items_carry_enum_members_and_keep_nulls() -> None:
    when = datetime(2026, 11, 1, 12, tzinfo=UTC)
    row = {f.name: None for f in dataclasses.fields(PipelineOut)} | {"status": "QUEUED", "created_at": when}
    item = PIPELINES.item(row)
    assert isinstance(item, PipelineOut)
    assert item.status is PipelineStatus.QUEUED and item.result is None and item.created_at == when
    assert PIPELINES.item({**row, "result": "FAILURE"}).result is PipelineResult.FAILURE


def test_a_field_with_no_column_fails_where_the_list_is_declared() -> None:
    @dataclasses.dataclass
    class Odd(PipelineOut):
        not_a_column: int = 0

    with pytest.raises(AttributeError, match="not_a_column"):
        synced_listing(Pipeline, Odd, PipelineSort, filters=(), search=Search((Pipeline.name,)))
