"""Keyset pagination on (sort key, id) with an opaque cursor, shared by every list.

A cursor carries the sort it was made for and the last row's (sort value, id). The next page starts strictly
after that pair in the same order, so rows inserted meanwhile never make a row repeat or get skipped.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeAlias

import orjson
from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlalchemy.orm import QueryableAttribute

from hyperpage.errors import BadRequest
from hyperpage.validation import check_datetime, check_int, check_text

# What a list names a column by: a Core column or expression, or a model's mapped attribute.
Col: TypeAlias = ColumnElement[Any] | QueryableAttribute[Any]

AFTER_VALUE, AFTER_ID = "after_value", "after_id"  # the bound parameters of the keyset condition


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


@dataclass(frozen=True)
class SortSpec:
    """A sort option: `-updated_at` means newest first. Only non-null columns are offered as sort keys."""

    name: str
    column: Col
    id_column: Col
    descending: bool
    kind: str  # "datetime" | "str" | "int": how the cursor value is encoded

    def after(self) -> ColumnElement[bool]:
        """Rows strictly after the cursor's (value, id), as a condition on two bound parameters."""
        col, id_col = self.column, self.id_column
        value, last_id = bindparam(AFTER_VALUE, type_=col.type), bindparam(AFTER_ID, type_=id_col.type)
        if self.descending:
            return or_(col < value, and_(col == value, id_col < last_id))
        return or_(col > value, and_(col == value, id_col > last_id))

    def order_by(self) -> tuple[Any, Any]:
        if self.descending:
            return self.column.desc(), self.id_column.desc()
        return self.column.asc(), self.id_column.asc()


def time_sorts(model: Any, options: type[StrEnum]) -> dict[Any, SortSpec]:
    """Sort specs for a list whose options are `[-]updated_at` / `[-]created_at` (id breaks ties)."""
    specs = {}
    for option in options:
        column = option.value.removeprefix("-")
        specs[option] = SortSpec(
            option.value, getattr(model, column), model.id, option.value.startswith("-"), "datetime"
        )
    return specs


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
    try:  # a cursor is client input: the same checks as every parameter (validation.py)
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
