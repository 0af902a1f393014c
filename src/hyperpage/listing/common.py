"""What every synced list shares: where its rows come from, the fields that say so, the common filters and sorts,
and the API row dataclass as the one statement of its fields (synced_listing)."""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import Field
from sqlalchemy import FromClause

from hyperpage.listing.cursor import Col, time_sorts
from hyperpage.listing.spec import Filter, Listing, Out, Search, equals, since
from hyperpage.tools.models import Connection, Repository


@dataclass(slots=True, kw_only=True)
class SyncedOut:
    """The first fields of every synced row as the API writes it (source_columns reads them)."""

    id: int
    tool: str
    connection: Annotated[str, Field(description="Connection name.")]
    connection_id: int
    repository: str | None


def source_of(model: Any) -> FromClause:
    """The synced table joined to its connection and (when it has one) its repository."""
    table: FromClause = model.__table__
    return table.join(Connection.__table__, Connection.id == model.connection_id).outerjoin(
        Repository.__table__, Repository.id == model.repository_id
    )


def source_columns(model: Any) -> tuple[Out, ...]:
    """The first fields of every synced row: id, tool, connection name and id, repository full name."""
    return (
        Out("id", model.id),
        Out("tool", Connection.tool),
        Out("connection", Connection.name),
        Out("connection_id", model.connection_id),
        Out("repository", Repository.full_name),
    )


def common_filters(model: Any) -> tuple[Filter, ...]:
    """The filters of ListQuery: tool, connection, repository, updated_since."""
    return (
        equals("tool", Connection.tool),
        equals("connection", model.connection_id),
        equals("repository", Repository.full_name),
        since("updated_since", model.updated_at),
    )


def synced_listing(
    model: Any,
    out: type[Any],
    sorts: type[StrEnum],
    *,
    filters: tuple[Filter, ...],
    search: Search,
    computed: dict[str, Col] | None = None,
) -> Listing:
    """The Listing of a synced table whose API row is the dataclass `out`: the source join, the common fields,
    filters and `[-]updated_at`/`[-]created_at` sorts, then every other field of `out` in its order, read from
    the model's column of that name (or from `computed`) and written as its type says (`field_kind`)."""
    computed = computed or {}
    common = source_columns(model)
    shared = {c.name for c in common}
    hints = get_type_hints(out)
    own = tuple(
        Out(f.name, computed[f.name] if f.name in computed else getattr(model, f.name), field_kind(hints[f.name]))
        for f in dataclasses.fields(out)
        if f.name not in shared
    )
    return Listing(
        source=source_of(model),
        columns=(*common, *own),
        filters=(*common_filters(model), *filters),
        search=search,
        sorts=time_sorts(model, sorts),
        item=typed_item(out),
    )


def _plain(hint: Any) -> Any:
    """`X | None` -> X; `Annotated[X, ...]` is already X once get_type_hints has dropped the extras."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def field_kind(hint: Any) -> str:
    """How page.py writes a field of this type: a UTC instant, a JSON array (null as []), a boolean, or as is."""
    plain = _plain(hint)
    if plain is datetime:
        return "time"
    if plain is bool:
        return "bool"
    if get_origin(plain) is list:
        return "list"
    return "plain"


def typed_item(out: type[Any]) -> Any:
    """Row dict -> `out`, with the enum fields (states, statuses) as their enum members rather than text."""
    hints = get_type_hints(out)
    enums = {}
    for f in dataclasses.fields(out):
        plain = _plain(hints[f.name])
        if isinstance(plain, type) and issubclass(plain, Enum):
            enums[f.name] = plain

    def item(row: dict[str, Any]) -> Any:
        return out(**{**row, **{name: kind(row[name]) for name, kind in enums.items() if row[name] is not None}})

    return item
