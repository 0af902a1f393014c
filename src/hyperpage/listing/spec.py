"""A list declared once: its output columns, filters, searched fields and sorts, compiled once per shape.

A request's *shape* is which filters it uses, how many search terms it has (and which look like numbers), its
sort and whether it carries a cursor. Each shape is compiled to SQL once per dialect; a request then only binds
its values (through the column types' own bind processors) and runs the statement on the driver (reader.py).
Compiling one shape took 1.5-5 ms on the 2-core development machine, once; finding the plan and binding a
request's values takes 3-5 microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    cast,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import func
from sqlalchemy.types import TypeDecorator

from hyperpage.listing.cursor import AFTER_ID, AFTER_VALUE, Col, SortSpec
from hyperpage.listing.pgsql import Inliner, inliner, instant_text
from hyperpage.listing.query import LIKE_ESCAPE, ListQuery, like_pattern, search_terms
from hyperpage.listing.sqljson import RowJson, sqlite_row_json

LIMIT = "page_limit"
MAX_PLANS = 500  # per list and dialect; a dashboard uses a handful of shapes


@dataclass(frozen=True)
class Out:
    """One field of a row as the API writes it: `kind` says how a driver's value becomes the JSON value."""

    name: str
    expr: Col
    kind: str = "plain"  # "plain" | "time" (UTC instant) | "list" (JSON array, null as []) | "bool"


@dataclass(frozen=True)
class Filter:
    """A query field that narrows the list. `build(dialect, operand)` is the condition; the operand is a bound
    parameter, or the value itself for `inline` filters (booleans: `IS true` takes no parameter)."""

    name: str
    build: Callable[[str, Any], ColumnElement[bool]]
    value: Callable[[str, Any], Any] = lambda _dialect, v: getattr(v, "value", v)
    inline: bool = False
    # more parameters the condition binds, by name, from (dialect, value): a filter with two operands
    extra: Callable[[str, Any], dict[str, Any]] | None = None


def equals(name: str, column: Col) -> Filter:
    return Filter(name, lambda _d, operand: column == operand)


def since(name: str, column: Col) -> Filter:
    return Filter(name, lambda _d, operand: column >= operand)


def flag(name: str, column: Col) -> Filter:
    return Filter(name, lambda _d, value: column.is_(value), inline=True)


def has_element(name: str, column: Col) -> Filter:
    """The JSON array column holds the value as one whole element (never a substring of the text).

    PostgreSQL has JSONB containment (`@>`); SQLite has no such operator, so the array is walked with json_each,
    after a look for the value in the stored text (instr): parsing each row's array cost a filtered page 1.5x the
    plain one (SQL only: 361 against 232 us); the look skips the rows that cannot match (289 us). An element equal
    to the value is in the text as the value's own characters only when no writer escapes them: JSON writers
    escape quotes, backslashes, control characters, often non-ASCII (stdlib json) and sometimes `/`, never other
    printable ASCII. For any other value the text looked for is '' (found in every text): json_each alone decides.
    """
    text_name = name + "_text"

    def build(dialect: str, operand: Any) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return type_coerce(column, JSONB).contains(operand)
        elements = func.json_each(column).table_valued("value")
        walked = select(literal(1)).select_from(elements).where(elements.c.value == operand).exists()
        return and_(func.instr(column, bindparam(text_name, type_=String())) > 0, walked)

    def extra(dialect: str, value: Any) -> dict[str, Any]:
        if dialect == "postgresql":
            return {}
        return {text_name: value if isinstance(value, str) and _never_escaped(value) else ""}

    return Filter(name, build, value=lambda dialect, v: [v] if dialect == "postgresql" else v, extra=extra)


def _never_escaped(text: str) -> bool:
    return all(" " <= c <= "~" and c not in '"\\/' for c in text)


@dataclass(frozen=True)
class Search:
    """Every term must appear, case-insensitively, in one of `fields`; a term that is a number (after an optional
    `#` or `!`) also matches `number` exactly."""

    fields: tuple[Col, ...]
    number: Col | None = None

    def numeric(self, term: str) -> bool:
        return self.number is not None and term.lstrip("#!").isdigit()

    def condition(self, index: int, numeric: bool) -> ColumnElement[bool]:
        term = bindparam(f"term_{index}", type_=String())
        alternatives = [f.icontains(term, escape=LIKE_ESCAPE) for f in self.fields]
        if numeric and self.number is not None:
            alternatives.append(cast(self.number, String) == bindparam(f"number_{index}", type_=String()))
        return or_(*alternatives)


@dataclass(frozen=True)
class Plan:
    sql: str
    names: tuple[str, ...]  # parameter name per position
    processors: dict[str, Any]  # SQLAlchemy's bind processors: callables (sequences only for tuple types)
    constants: dict[str, Any]  # parameters SQLAlchemy made of literals in the statement
    inliner: Inliner | None = None  # PostgreSQL: writes the values into the SQL (pgsql.py)

    def bind(self, values: dict[str, Any]) -> list[Any]:
        out = []
        for name in self.names:
            value = values[name] if name in values else self.constants[name]
            processor = self.processors.get(name)
            out.append(value if processor is None or value is None else processor(value))
        return out

    def run(self, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and parameters to send for these values."""
        params = self.bind(values)
        return (self.sql, params) if self.inliner is None else self.inliner.render(params)


@dataclass
class Listing:
    """One list: rows of `source` written as `columns`, narrowed by `filters` and `search`, paged by `sorts`."""

    source: FromClause
    columns: tuple[Out, ...]
    filters: tuple[Filter, ...]
    search: Search
    sorts: dict[Any, SortSpec]
    item: Callable[[dict[str, Any]], Any] = dict  # a row as the typed item the web pages use (common.typed_item)
    _plans: dict[tuple[Any, ...], Plan] = field(default_factory=dict)
    converters: dict[str, Callable[[list[Any]], list[dict[str, Any]]]] = field(default_factory=dict)  # page.py
    _row_json: RowJson | None = None

    def row_json(self) -> RowJson:
        """The rows as JSON written by SQLite (sqljson.py), built once."""
        if self._row_json is None:
            self._row_json = sqlite_row_json(self.columns)
        return self._row_json

    def statement(
        self, dialect: Dialect, query: ListQuery, sort: SortSpec, after: bool, *, rendered: bool = False
    ) -> tuple[Plan, dict[str, Any]]:
        """The compiled plan for this request's shape, and the values of its parameters.

        `rendered`: for a page read as JSON bytes only. SQLite: select each row as JSON (sqljson.RowJson's parts,
        then its `exact` flag, the sort value and the id for the cursor) instead of the list's columns.
        PostgreSQL: the list's columns, UTC instants as text (_output).
        """
        name = dialect.name
        values: dict[str, Any] = {LIMIT: query.limit + 1}  # one extra row tells whether a next page exists
        # PostgreSQL: the page size is written into the SQL (one plan per size), so the server plans each shape
        # once per connection, not on every read (_compile)
        limit = query.limit + 1 if name == "postgresql" else None
        shape: list[Any] = [name, sort.name, after, rendered, limit]
        active = []
        for spec in self.filters:
            raw = getattr(query, spec.name)
            if raw is None:
                continue
            value = spec.value(name, raw)
            active.append((spec, value))
            shape.append((spec.name, value) if spec.inline else spec.name)
            if not spec.inline:
                values[spec.name] = value
            if spec.extra is not None:
                values.update(spec.extra(name, value))
        terms = search_terms(query.q)
        numeric = tuple(self.search.numeric(term) for term in terms)
        shape.append(numeric)
        for index, term in enumerate(terms):
            values[f"term_{index}"] = like_pattern(term)
            if numeric[index]:
                values[f"number_{index}"] = term.lstrip("#!")
        key = tuple(shape)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(dialect, active, numeric, sort, after, rendered, limit)
        return plan, values

    def _compile(
        self,
        dialect: Dialect,
        active: list[tuple[Filter, Any]],
        numeric: tuple[bool, ...],
        sort: SortSpec,
        after: bool,
        rendered: bool,
        limit: int | None,
    ) -> Plan:
        """`limit`: the page size as a literal, or None to bind it. PostgreSQL plans a prepared statement anew
        at each execution (a custom plan) unless a plan for any parameter values (a generic plan) is estimated
        as cheap; with `LIMIT $n` it estimates the generic plan for a tenth of the table, so it never chose it,
        and planning the 50-row reviews page cost ~0.2 ms of its ~0.7 ms round trip (measured on 10,000 pull
        requests: 716-759 us bound, 586-637 us with the literal, where pg_prepared_statements shows generic plans
        from the sixth execution on)."""
        conds = [spec.build(dialect.name, value if spec.inline else bindparam(spec.name)) for spec, value in active]
        conds += [self.search.condition(index, is_number) for index, is_number in enumerate(numeric)]
        if after:
            conds.append(sort.after())
        if rendered and dialect.name == "sqlite":
            row = self.row_json()
            output = [*row.parts, row.exact, sort.column, sort.id_column]
        else:
            output = [_output(dialect.name, c, rendered) for c in self.columns]
        stmt = (
            select(*output)
            .select_from(self.source)
            .where(*conds)
            .order_by(*sort.order_by())
            .limit(bindparam(LIMIT, type_=Integer()) if limit is None else literal_column(str(int(limit)), Integer()))
        )
        compiled = stmt.compile(dialect=dialect)
        processors = dict(compiled._bind_processors)  # the column types' own conversions (TZDateTime, JSON)
        names = tuple(compiled.positiontup or ())
        if len(self._plans) >= MAX_PLANS:  # shapes are client-chosen: bound the memory they can take
            self._plans.clear()
        inlined = inliner(compiled.string, names, (AFTER_VALUE, AFTER_ID)) if dialect.name == "postgresql" else None
        return Plan(compiled.string, names, processors, dict(compiled.params), inlined)


def _output(dialect: str, column: Out, rendered: bool) -> ColumnElement[Any]:
    """A column as the page selects it. PostgreSQL: a JSON array as its text, which page.py parses with orjson
    itself; the driver's JSONB codec (SQLAlchemy's, a Python function per value, then page.py's None check, a
    second one) cost ~0.5 us per array, a tenth of the web process's read of a 50-row reviews page (py-spy).
    The text is jsonb's own output, the one the codec parsed; SQL NULL comes as '[]' (the API's null list).
    Rendered (a page read for its JSON bytes only): a UTC instant as text (pgsql.instant_text)."""
    if dialect == "postgresql" and column.kind == "list":
        return func.coalesce(cast(column.expr, Text), literal_column("'[]'")).label(column.name)
    if dialect == "postgresql" and rendered and pg_instant(column):
        return instant_text(column.expr).label(column.name)
    return column.expr.label(column.name)


def pg_instant(column: Out) -> bool:
    """An instant PostgreSQL holds as timestamptz (TZDateTime's type there), which instant_text can render."""
    kind = getattr(column.expr, "type", None)
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return column.kind == "time" and isinstance(kind, DateTime) and bool(kind.timezone)
