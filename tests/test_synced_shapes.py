"""The synced lists' shared shapes keep each list's own names and row types (what /openapi.json shows)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from pydantic import TypeAdapter

from hyperpage.issues.schemas import IssuePage, IssueSort
from hyperpage.synced_shapes import TimeSort, page_of, time_sort


@dataclass(slots=True, kw_only=True)
class Row:
    n: int


RowPage = page_of(Row, "RowPage")


def test_a_named_sort_has_every_time_sort_and_its_own_name() -> None:
    sort = time_sort("RowSort", __name__)
    assert sort.__name__ == "RowSort" and sort is not TimeSort
    assert [(m.name, m.value) for m in sort] == [(m.name, m.value) for m in TimeSort]
    assert sort("-created_at") == TimeSort.CREATED_DESC == "-created_at"
    assert TypeAdapter(sort).json_schema()["title"] == "RowSort"
    # a list's sort survives pickling as the member of its own module's enum
    assert pickle.loads(pickle.dumps(IssueSort.UPDATED_ASC)) is IssueSort.UPDATED_ASC


def test_a_named_page_types_its_rows() -> None:
    schema = TypeAdapter(RowPage).json_schema()
    assert schema["title"] == "RowPage"
    assert list(schema["properties"]) == ["items", "next_cursor", "limit"]
    assert schema["properties"]["items"]["items"] == {"$ref": "#/$defs/Row"}
    built = RowPage(items=[Row(n=1)], next_cursor=None, limit=1)
    assert pickle.loads(pickle.dumps(built)) == built
    assert IssuePage.__name__ == "IssuePage" and IssuePage.__module__ == "hyperpage.issues.schemas"
