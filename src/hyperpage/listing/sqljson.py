"""SQLite writes each row's JSON itself: the bytes orjson would write for the same row (page.py), so Python only
joins rows instead of building a dict per row and serialising it (measured, interleaved on the 2-core machine:
313 instead of 418 us of CPU for a 50-row reviews page, query included; the driver makes one string per row
instead of one object per field).

What SQLite renders exactly as orjson does, and how (json_quote matches orjson byte for byte on every code point,
tests/listing/test_sqljson.py):
- text and integers as they are; booleans (stored 0/1) as true/false;
- UTC instants, stored as `YYYY-MM-DD HH:MM:SS.ffffff` (db/base.py TZDateTime), as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`;
- JSON arrays as compact JSON, SQL NULL and JSON null as []; stored text holds non-ASCII as \\u escapes (stdlib
  json), which orjson writes as the characters, so an array with a backslash is written again element by element.
What it does not: floats (SQLite prints 15 significant digits, orjson the shortest exact form) are selected as
values and written by orjson between the SQL-rendered parts. A row that SQLite cannot render exactly (an instant
in another format, written by another client; a NUL character in an array, where json_each cuts) is flagged,
and its page is read again the ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import ColumnElement, Float, and_, case, func, literal_column, or_, select

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


def sqlite_row_json(columns: tuple[Out, ...]) -> RowJson:
    parts: list[ColumnElement[Any]] = []
    python: list[str | None] = []
    run: list[Any] = []
    exact: list[ColumnElement[bool]] = []

    def close_run() -> None:
        if run:
            parts.append(func.json_object(*run))
            python.append(None)
            run.clear()

    for column in columns:
        expr: Any = column.expr
        if column.kind == "plain" and isinstance(expr.type, Float):
            close_run()
            parts.append(expr)
            python.append(column.name)
            continue
        run += [_text(column.name), _field(column, expr)]
        if column.kind == "time":
            exact.append(or_(expr.is_(None), expr.op("LIKE")(_text(STORED_INSTANT))))
        elif column.kind == "list":
            exact.append(or_(expr.is_(None), func.instr(expr, _text("\\u0000")) == 0))
    close_run()
    return RowJson(tuple(parts), case((and_(*exact), 1), else_=0) if exact else _text("1"), _joiner(tuple(python)))


def _field(column: Out, expr: Any) -> ColumnElement[Any]:
    if column.kind == "time":
        # `2026-11-01 12:00:00.000000` -> `2026-11-01T12:00:00Z`; orjson leaves out a zero fraction, keeps six digits
        iso = func.replace(func.replace(expr, _text(" "), _text("T")), _text(".000000"), _text(""))
        return iso.op("||")(_text("Z"))
    if column.kind == "bool":
        # json() of a constant per branch: SQLite computes each once per statement, not once per row (~6 us a page)
        return case(
            (expr.is_(None), func.json(_text("null"))),
            (expr, func.json(_text("true"))),
            else_=func.json(_text("false")),
        )
    if column.kind == "list":
        elements = func.json_each(expr).table_valued("value")
        rewritten = select(func.json_group_array(elements.c.value)).select_from(elements).scalar_subquery()
        return func.json(
            case(
                (or_(expr.is_(None), expr.op("=")(_text("null"))), _text("[]")),  # a JSON null too, as page.py reads it
                (func.instr(expr, _text("\\")) == 0, expr),
                else_=rewritten,
            )
        )
    result: ColumnElement[Any] = expr
    return result
