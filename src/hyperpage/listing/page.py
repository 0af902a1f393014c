"""One keyset page of a list: driver rows to plain values, the next cursor, and the page as JSON bytes.

Rows never become ORM objects or models: a row is a dict of the API's field names, in the documented order,
holding what orjson writes exactly as pydantic would (UTC instants ending in `Z`, lists, booleans, null).
tests/api/test_list_golden.py holds every list route to the bytes the earlier pydantic/ORM path wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hyperpage.listing.cursor import AFTER_ID, AFTER_VALUE, SortSpec, decode_cursor, encode_cursor
from hyperpage.listing.pgsql import NotExact, finish_instant
from hyperpage.listing.query import ListQuery
from hyperpage.listing.reader import fetch_rows
from hyperpage.listing.spec import Listing, Out, pg_instant

Row = dict[str, Any]
P = TypeVar("P")
SQLITE_TIME_LENGTH = len("2026-11-01 12:00:00.000000")  # how SQLAlchemy writes DateTime on SQLite
_fromisoformat = datetime.fromisoformat


@dataclass(slots=True)
class Page:
    items: list[Row]
    next_cursor: str | None
    limit: int

    def json(self) -> bytes:
        return orjson.dumps(
            {"items": self.items, "next_cursor": self.next_cursor, "limit": self.limit}, option=orjson.OPT_UTC_Z
        )


async def read_page(
    engine: AsyncEngine, listing: Listing, query: ListQuery, sort: SortSpec, *, rendered: bool = False
) -> Page:
    """The page of `listing` that `query` asks for, in a stable keyset order.

    `rendered` (PostgreSQL; the page is wanted for its JSON bytes only): the UTC instants come as the text
    orjson writes for them (pgsql.instant_text), not as datetimes; NotExact when one cannot.
    """
    rendered = rendered and engine.dialect.name == "postgresql"
    rows = await _fetch(engine, listing, query, sort, rendered=rendered)
    limit = query.limit
    has_more = len(rows) > limit
    items = _converter(listing, engine.dialect.name, rendered)(rows[:limit])
    if not has_more or not items:
        return Page(items, None, limit)
    last = items[-1]
    value = last[str(sort.column.key)]
    if rendered and isinstance(value, str) and sort.kind == "datetime":
        value = _fromisoformat(value)  # the cursor holds the instant as the ordinary path writes it
    return Page(items, encode_cursor(sort, value, last["id"]), limit)


async def read_list(engine: AsyncEngine, listing: Listing, query: ListQuery) -> Page:
    """The page of `listing` that `query` asks for, in the order its `sort` option names."""
    sort = getattr(query, "sort")  # noqa: B009 -- each list's query declares its own sort enum, not ListQuery
    return await read_page(engine, listing, query, listing.sorts[sort])


async def read_list_json(engine: AsyncEngine, listing: Listing, query: ListQuery) -> bytes:
    """The page read_list answers, as the response's JSON bytes (read_page_json)."""
    sort = getattr(query, "sort")  # noqa: B009 -- as in read_list
    return await read_page_json(engine, listing, query, listing.sorts[sort])


async def read_typed(session: AsyncSession, listing: Listing, query: ListQuery, page_type: Callable[..., P]) -> P:
    """The same page with typed items (`listing.item`), for the server-rendered pages and the original portal's
    routes."""
    page = await read_list(session.bind, listing, query)  # type: ignore[arg-type]  # bound to an AsyncEngine
    return page_type(items=[listing.item(row) for row in page.items], next_cursor=page.next_cursor, limit=page.limit)


async def read_page_json(engine: AsyncEngine, listing: Listing, query: ListQuery, sort: SortSpec) -> bytes:
    """The same page as read_page, as the response's JSON bytes: on SQLite the rows come rendered (sqljson.py).

    On PostgreSQL only the instants come as text (read_page's `rendered`): whole rows rendered there (to_json per
    field, concatenated, as json_build_object spaces its output) took the server 0.6-0.8 ms more per 50-row page
    and saved the web process only 0.1-0.15 ms. A page with an instant the text cannot stand for (NotExact) is
    read again the ordinary way.
    """
    if engine.dialect.name == "postgresql":
        try:
            return (await read_page(engine, listing, query, sort, rendered=True)).json()
        except NotExact:
            return (await read_page(engine, listing, query, sort)).json()
    if engine.dialect.name != "sqlite":
        return (await read_page(engine, listing, query, sort)).json()
    rows = await _fetch(engine, listing, query, sort, rendered=True)
    limit = query.limit
    row_json = listing.row_json()
    width = len(row_json.parts)  # then the `exact` flag, the sort value and the id
    page = rows[:limit]
    if not all(row[width] for row in page):  # a row SQLite cannot render exactly: the page the ordinary way
        return (await read_page(engine, listing, query, sort)).json()
    cursor = None
    if len(rows) > limit and page:
        last = page[-1]
        value = _sqlite_time(last[width + 1]) if sort.kind == "datetime" else last[width + 1]
        cursor = encode_cursor(sort, value, last[width + 2])
    items = b",".join([row_json.join(row) for row in page])
    return b'{"items":[' + items + b'],"next_cursor":' + orjson.dumps(cursor) + b',"limit":%d}' % limit


async def _fetch(
    engine: AsyncEngine, listing: Listing, query: ListQuery, sort: SortSpec, *, rendered: bool
) -> list[Any]:
    """The page's rows and one more (it tells whether a next page exists)."""
    after = decode_cursor(query.cursor, sort)
    plan, values = listing.statement(engine.dialect, query, sort, after is not None, rendered=rendered)
    if after is not None:
        values[AFTER_VALUE], values[AFTER_ID] = after
    sql, params = plan.run(values)
    return await fetch_rows(engine, sql, params)


def _converter(listing: Listing, dialect: str, rendered: bool = False) -> Callable[[list[Any]], list[Row]]:
    key = f"{dialect} rendered" if rendered else dialect
    found = listing.converters.get(key)
    if found is None:
        found = listing.converters[key] = _make_converter(listing.columns, dialect, rendered)
    return found


def _make_converter(columns: tuple[Out, ...], dialect: str, rendered: bool = False) -> Callable[[list[Any]], list[Row]]:
    """Rows -> dicts, converting only the columns whose driver value is not yet the API's value.

    The function is generated once per list and dialect, as one dict display per row (what dataclasses and
    attrs do for __init__): a loop over the columns, or zip() plus per-column fixes, cost 2-3x as much on a
    200-row page. Only our own column names and converter names enter the source.
    """
    fixes = _SQLITE_FIXES if dialect == "sqlite" else _DRIVER_FIXES
    fields = []
    for index, column in enumerate(columns):
        fix = _RENDERED_TIME if rendered and pg_instant(column) else fixes.get(column.kind)
        fields.append(f"{column.name!r}: {fix.format(f'r[{index}]')}" if fix else f"{column.name!r}: r[{index}]")
    source = "lambda rows: [{" + ", ".join(fields) + "} for r in rows]"
    namespace: dict[str, Any] = {"_sqlite_time": _sqlite_time, "_sqlite_list": _sqlite_list, "_loads": orjson.loads}
    namespace["_sqlite_bool"] = _sqlite_bool
    namespace["_finish_instant"] = finish_instant
    # the source holds only our own column and converter names
    converter: Callable[[list[Any]], list[Row]] = eval(source, namespace)
    return converter


def _sqlite_time(value: Any) -> datetime | None:
    # SQLite holds UTC instants as naive text (db/base.py TZDateTime); text with an offset is converted
    if value is None:
        return None
    if type(value) is str and len(value) == SQLITE_TIME_LENGTH:
        return _fromisoformat(value + "+00:00")  # one C call; datetime.replace(tzinfo=) costs 3x more
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sqlite_list(value: Any) -> list[Any]:
    if value is None:
        return []
    # a JSON null is [] as on PostgreSQL (_DRIVER_FIXES): the API's list fields are never null
    return (orjson.loads(value) or []) if isinstance(value, str | bytes) else list(value)


def _sqlite_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


# Per kind, the expression that makes a driver's value the API's value (the value's place is `{}`).
# PostgreSQL: asyncpg gives aware UTC datetimes and booleans; a JSON array comes as text (spec.py's _output),
# parsed in C with no Python call around it; a JSON null is the API's empty list
_SQLITE_FIXES = {"time": "_sqlite_time({})", "list": "_sqlite_list({})", "bool": "_sqlite_bool({})"}
_DRIVER_FIXES = {"list": "(_loads({}) or [])"}
_RENDERED_TIME = "_finish_instant({})"  # PostgreSQL, rendered: the instant's text as orjson writes it
