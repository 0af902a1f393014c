"""Keyset pagination on (sort key, id) with an opaque cursor, shared by every list endpoint.

A cursor carries the sort it was made for and the last row's (sort value, id). The next page starts strictly
after that pair in the same order, so rows inserted meanwhile never make a row repeat or get skipped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.api.validation import check_datetime, check_int, check_text
from hyperpage.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


@dataclass(frozen=True)
class SortSpec:
    """A sort option: `-updated_at` means newest first. Only non-null columns are offered as sort keys."""

    name: str
    column: ColumnElement[Any]
    id_column: ColumnElement[Any]
    descending: bool
    kind: str  # "datetime" | "str" | "int": how the cursor value is encoded


def time_sorts(model: Any, options: type[StrEnum]) -> dict[Any, SortSpec]:
    """Sort specs for a list whose options are `[-]updated_at` / `[-]created_at` (id breaks ties)."""
    specs = {}
    for option in options:
        column = option.value.removeprefix("-")
        specs[option] = SortSpec(option.value, getattr(model, column), model.id, option.value.startswith("-"),
                                 "datetime")
    return specs


def apply_keyset(stmt: Select[Any], sort: SortSpec, cursor: tuple[Any, int] | None, limit: int) -> Select[Any]:
    col, id_col = sort.column, sort.id_column
    if cursor is not None:
        value, last_id = cursor
        if sort.descending:
            stmt = stmt.where(or_(col < value, and_(col == value, id_col < last_id)))
        else:
            stmt = stmt.where(or_(col > value, and_(col == value, id_col > last_id)))
    order = (col.desc(), id_col.desc()) if sort.descending else (col.asc(), id_col.asc())
    return stmt.order_by(*order).limit(limit + 1)  # one extra row tells whether a next page exists


def encode_cursor(sort: SortSpec, value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    raw = orjson.dumps({"s": sort.name, "v": value, "i": row_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, sort: SortSpec) -> tuple[Any, int] | None:
    """Parse a cursor made by encode_cursor for the same sort; anything else is a 400 saying what is wrong."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        name, value, row_id = data["s"], data["v"], data["i"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: malformed; pass the next_cursor of a previous page unchanged") from None
    if name != sort.name:
        raise InvalidCursor(f"cursor: made for sort {name!r}, not {sort.name!r}; restart without a cursor")
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidCursor("cursor: malformed row id")
    try:  # a cursor is client input: the same checks as every parameter (api/validation.py)
        check_int(row_id)
    except ValueError as exc:
        raise InvalidCursor(f"cursor: row id {exc}") from None
    return _decode_value(sort.kind, value), row_id


def _decode_value(kind: str, value: Any) -> Any:
    try:
        if kind == "datetime" and isinstance(value, str):
            return check_datetime(datetime.fromisoformat(value))
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return check_int(value)
        if kind == "str" and isinstance(value, str):
            return check_text(value)
    except ValueError as exc:
        raise InvalidCursor(f"cursor: sort value {exc}") from None
    raise InvalidCursor("cursor: malformed sort value")


def page_of(rows: list[Any], sort: SortSpec, limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Cut the extra row off and build the next cursor from the last row kept; `key(row)` -> (value, id)."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not has_more or not rows:
        return rows, None
    value, row_id = key(rows[-1])
    return rows, encode_cursor(sort, value, row_id)


async def fetch_page(session: AsyncSession, stmt: Select[Any], sort: SortSpec, cursor: str | None, limit: int,
                     out: Callable[[Row[Any]], T]) -> tuple[list[T], str | None]:
    """Run a list query as one keyset page: the items (each row through `out`) and the next cursor."""
    after = decode_cursor(cursor, sort)
    rows = (await session.execute(apply_keyset(stmt, sort, after, limit))).all()
    kept, next_cursor = page_of(list(rows), sort, limit, lambda r: (r._mapping[sort.column.key], r.id))
    return [out(row) for row in kept], next_cursor
