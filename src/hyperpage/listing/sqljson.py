"""The database writes each row's JSON itself: the bytes orjson would write for the same row (page.py), so Python
only joins rows instead of making a Python object per field, a dict per row, and serialising it. Measured
interleaved on the loaded 2-core machine, 50-row reviews page: SQLite 313 instead of 418 us of CPU for the read
(query included); PostgreSQL 0.9-1.2 instead of 1.6-2.0 ms of the web process's CPU per request (asyncpg decoded
22 fields per row, then the dict and orjson).

SQLite uses json_object, whose quoting matches orjson byte for byte on every code point; PostgreSQL concatenates
the fields (json_build_object writes `{"k" : v}`), each quoted by to_json. Per kind of field:
- text and integers as they are; booleans (SQLite stores 0/1) as true/false;
- UTC instants as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (SQLite stores `YYYY-MM-DD HH:MM:SS.ffffff`, db/base.py);
- JSON arrays compact, null as []: SQLite's stored text holds non-ASCII as \\u escapes (stdlib json), which orjson
  writes as the characters, so an array with a backslash is written again element by element; PostgreSQL's
  jsonb text has a space after each comma, so the elements are joined again;
- floats are selected as values and written by orjson between the SQL-written parts: SQLite prints 15
  significant digits and PostgreSQL `3` for 3.0, orjson the shortest exact form and `3.0`.
A row the database cannot write exactly (SQLite: an instant in another text form, written by another client, or a
NUL in an array, where json_each cuts; PostgreSQL: an array holding anything but strings) is flagged, and its page
is read again the ordinary way. tests/listing/test_sqljson.py holds both ways to the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import ColumnElement, Float, Text, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

if TYPE_CHECKING:
    from hyperpage.listing.spec import Out

# the one text form TZDateTime writes on SQLite, `2026-11-01 12:00:00.000000`, as a LIKE pattern: GLOB's digit
# classes cost 4x as much (a fifth of the rendered read), and text with letters in place of digits is no instant
# the ordinary path could read either
STORED_INSTANT = "".join("_" if c.isdigit() else c for c in "2026-11-01 12:00:00.000000")


def _text(value: str) -> ColumnElement[Any]:
    # our own constants, inlined so a plan's parameters stay the request's values
    return literal_column("'" + value.replace("'", "''") + "'")


@dataclass(frozen=True)
class RowJson:
    """A list's rows as SQL: `parts` is a json_object per run of SQL-rendered fields and the bare value of each
    field written in Python, in the list's field order; `exact` is 1 when SQLite rendered the row exactly;
    `join` makes a row's JSON bytes from its parts (the first len(parts) values of a result row)."""

    parts: tuple[ColumnElement[Any], ...]
    exact: ColumnElement[Any]
    join: Callable[[Any], bytes]


def _joiner(python: tuple[str | None, ...]) -> Callable[[Any], bytes]:
    """`python` names per part the field written by orjson, or None for a json_object."""
    if python == (None,):
        return lambda row: row[0].encode()

    def join(row: Any) -> bytes:
        out = []
        for index, name in enumerate(python):
            value = row[index]
            if name is None:
                if len(value) > 2:  # "{}" holds no field
                    out.append(value[1:-1].encode())
            else:
                out.append(orjson.dumps(name) + b":" + orjson.dumps(value))
        return b"{" + b",".join(out) + b"}"

    return join


def row_json(columns: tuple[Out, ...], dialect: str) -> RowJson:
    """The rows of a list with these output columns as JSON written by the database."""
    field, exact_when, build = (
        (_sqlite_field, _sqlite_exact, _sqlite_object) if dialect == "sqlite" else (_pg_field, _pg_exact, _pg_object)
    )
    parts: list[ColumnElement[Any]] = []
    python: list[str | None] = []
    run: list[tuple[str, ColumnElement[Any]]] = []
    exact: list[ColumnElement[bool]] = []

    def close_run() -> None:
        if run:
            parts.append(build(run))
            python.append(None)
            run.clear()

    for column in columns:
        expr: Any = column.expr
        if column.kind == "plain" and isinstance(expr.type, Float):
            close_run()
            parts.append(expr)
            python.append(column.name)
            continue
        run.append((column.name, field(column.kind, expr)))
        condition = exact_when(column.kind, expr)
        if condition is not None:
            exact.append(condition)
    close_run()
    return RowJson(
        tuple(parts), case((and_(*exact), 1), else_=0) if exact else literal_column("1"), _joiner(tuple(python))
    )


def _sqlite_object(fields: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    return func.json_object(*(item for name, value in fields for item in (_text(name), value)))


def _sqlite_field(kind: str, expr: Any) -> ColumnElement[Any]:
    if kind == "time":
        # `2026-11-01 12:00:00.000000` -> `2026-11-01T12:00:00Z`; orjson leaves out a zero fraction, keeps six digits
        iso = func.replace(func.replace(expr, _text(" "), _text("T")), _text(".000000"), _text(""))
        return iso.op("||")(_text("Z"))
    if kind == "bool":
        return func.json(case((expr.is_(None), _text("null")), (expr, _text("true")), else_=_text("false")))
    if kind == "list":
        elements = func.json_each(expr).table_valued("value")
        rewritten = select(func.json_group_array(elements.c.value)).select_from(elements).scalar_subquery()
        return func.json(
            case((expr.is_(None), _text("[]")), (func.instr(expr, _text("\\")) == 0, expr), else_=rewritten)
        )
    result: ColumnElement[Any] = expr
    return result


def _sqlite_exact(kind: str, expr: Any) -> ColumnElement[bool] | None:
    if kind == "time":
        return or_(expr.is_(None), expr.op("LIKE")(_text(STORED_INSTANT)))
    if kind == "list":
        return or_(expr.is_(None), func.instr(expr, _text("\\u0000")) == 0)
    return None


def _pg_object(fields: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    # json_build_object writes `{"k" : v, ...}` with spaces; orjson's form is built by concatenation
    out: ColumnElement[Any] | None = None
    for index, (name, value) in enumerate(fields):
        key = _text(("{" if index == 0 else ",") + orjson.dumps(name).decode() + ":")
        out = key.op("||")(value) if out is None else out.op("||")(key).op("||")(value)
    assert out is not None
    return out.op("||")(_text("}"))


def _pg_field(kind: str, expr: Any) -> ColumnElement[Any]:
    if kind == "time":
        utc = expr.op("AT TIME ZONE")(_text("UTC"))
        iso = func.to_char(utc, _text('YYYY-MM-DD"T"HH24:MI:SS')).op("||")(
            func.replace(_text(".").op("||")(func.to_char(utc, _text("US"))), _text(".000000"), _text(""))
        )
        return func.coalesce(_text('"').op("||")(iso).op("||")(_text('Z"')), _text("null"))
    if kind == "list":
        # jsonb's text puts a space after each comma: the elements (strings, see _pg_exact) joined again
        elements = func.jsonb_array_elements(expr).table_valued("value", with_ordinality="ordinality")
        joined = select(
            func.string_agg(cast(elements.c.value, Text), aggregate_order_by(_text(","), elements.c.ordinality))
        ).scalar_subquery()
        is_array = func.jsonb_typeof(expr) == _text("array")
        listed = _text("[").op("||")(case((is_array, joined))).op("||")(_text("]"))
        return func.coalesce(listed, _text("[]"))
    return func.coalesce(cast(func.to_json(expr), Text), _text("null"))


def _pg_exact(kind: str, expr: Any) -> ColumnElement[bool] | None:
    if kind == "list":  # null or an array of strings: what the dict path writes the same way
        only_strings = ~func.jsonb_path_exists(expr, _text('$[*] ? (@.type() != "string")'))
        kind_of = func.jsonb_typeof(expr)
        return or_(expr.is_(None), kind_of == _text("null"), and_(kind_of == _text("array"), only_strings))
    return None
