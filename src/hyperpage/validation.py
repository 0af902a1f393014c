"""One validation for every value a client sends: text, integers and instants the databases can take.

A value can be well-formed for pydantic and still break the query that uses it, which used to be a 500:
- PostgreSQL text cannot hold NUL (asyncpg: "invalid byte sequence for encoding UTF8: 0x00"), and neither
  driver can encode a lone surrogate ("\\ud800" is valid JSON) as UTF-8;
- integers are bound as 64-bit (BIGINT on PostgreSQL, SQLite INTEGER): anything outside -2^63..2^63-1
  raises OverflowError in the driver (https://www.sqlite.org/datatype3.html, section 2);
- an instant near year 1 or 9999 with an offset overflows Python's datetime range when converted to UTC,
  which both drivers do before binding (`9999-12-31T23:59:59-01:00` is 10000-01-01 in UTC).

`RequestModel` is the base of every query and body model, so each field of each route goes through
`check_value`; plain parameters use `SafeText`, and cursors (listing/cursor.py) call the same functions. The
failure is a ValueError, which FastAPI turns into the 422 error shape like any other invalid parameter.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# A database id as clients send it: positive and within BIGINT, so OpenAPI documents the range too.
DbId = Annotated[int, Field(ge=1, le=INT64_MAX)]


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def check_int(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"out of range: integers must lie within {INT64_MIN}..{INT64_MAX}")
    return value


def check_datetime(value: datetime) -> datetime:
    """The same instant in UTC (no offset means UTC); one that leaves years 1-9999 in UTC is refused."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: the instant must fall within years 1-9999 once converted to UTC") from None


def check_value(value: Any) -> Any:
    """Check one parsed value, and the items of lists and dicts, by type; other types pass unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, int):
        return check_int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, datetime):
        return check_datetime(value)
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(check_value(item) for item in value)
    if isinstance(value, dict):
        return {check_value(key): check_value(item) for key, item in value.items()}
    return value


SafeText = Annotated[str, AfterValidator(check_text)]


def iso_only(value: Any, kind: type[date], example: str) -> Any:
    """A "before" validator's body: a string must be ISO 8601 (`kind` is date or datetime), because pydantic alone
    would also take "0" or "0.5" as a Unix timestamp."""
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected {example}") from None
    return value


class RequestModel(BaseModel):
    """Base of every query-parameter and request-body model: all fields, of subclasses too, are checked."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_value(value)
