"""API shapes the synced lists (reviews, pipelines, issues) share: their sorts and their page.

Each list keeps its own names in /openapi.json (`IssueSort`, `IssuePage`, ...), so clients generated from it keep
their types; what stands once here is what those types hold. Pages and rows are plain dataclasses, not models:
they are built from our own rows (nothing to validate) and written by orjson, ~3x faster than pydantic for a
50-row page. FastAPI still documents them in OpenAPI.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from types import GenericAlias
from typing import Annotated, Generic, TypeVar, cast

from pydantic import Field

T = TypeVar("T")


class TimeSort(StrEnum):
    """The orders of every synced list: `-` means newest first; ties by id."""

    UPDATED_DESC = "-updated_at"
    UPDATED_ASC = "updated_at"
    CREATED_DESC = "-created_at"
    CREATED_ASC = "created_at"


def time_sort(name: str, module: str) -> type[TimeSort]:
    """TimeSort under a list's own name, as if written in `module` (repr, pickle). At run time a distinct enum
    with the same members and values (members of StrEnum compare as their text); type checkers see TimeSort."""
    return cast(type[TimeSort], StrEnum(name, [(m.name, m.value) for m in TimeSort], module=module))


@dataclass(slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list; `page_of` makes the named page of one row type."""

    items: list[T]
    next_cursor: Annotated[str | None, Field(description="Pass as `cursor` for the next page; null on the last page.")]
    limit: int


def page_of(item: type[T], name: str) -> type[Page[T]]:
    """The Page of `item` rows under the list's own name: a subclass whose `items` names the row type, which
    OpenAPI needs to describe the rows (a parametrised generic dataclass leaves them untyped there)."""
    items = GenericAlias(list, (item,))  # list[item], built at run time
    made = dataclasses.make_dataclass(name, [("items", items)], bases=(Page,), slots=True, kw_only=True)
    made.__module__ = item.__module__  # where the page is named, next to its row type (repr, pickle)
    return cast(type[Page[T]], made)
