"""PostgreSQL: a list's request values written into its SQL, so the server plans each filter once per connection;
and UTC instants selected as text, which Python only finishes (instant_text, finish_instant).

A prepared statement with parameters is planned anew at every execution (a custom plan) unless a plan for any
values (a generic plan) is estimated as cheap; for a filtered page the generic plan guesses the filter's
selectivity, finds a sort of the whole filtered table cheaper than walking the sort index, and is 10x slower
(measured on 10,000 pull requests: 4.7 ms against 0.56 ms of server CPU for `reviewer=`), so the server keeps
planning: 0.12-0.2 ms of server CPU per filtered page, a third of what the whole read costs the server, on the
same 2 cores as the web process. With the values in the SQL, the statement has no parameter left to plan for:
its one plan is the custom plan for those values, kept with the statement in asyncpg's statement cache (100 per
connection, least recently used first out), so a dashboard's filters are planned once per connection. A new
value costs one more round trip (asyncpg prepares a statement it has not seen before running it).

Only the keyset cursor stays a parameter: each next page has another, and a statement per cursor would never
be used twice. Text is written as an escaped string constant (E'...', whose meaning does not depend on the
server's standard_conforming_strings); text holding NUL (which PostgreSQL's query text cannot carry) and values
of other types than text and integers stay parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, literal_column

# a string constant (skipped: its text is no placeholder) or a `$n` placeholder
_TOKEN = re.compile(r"'(?:[^']|'')*'|\$(\d+)")


@dataclass(frozen=True)
class Inliner:
    """A compiled statement cut at its placeholders: `texts` around them, `slots` the 0-based parameter position
    of each placeholder (one may appear several times), `keep` the positions that stay parameters."""

    texts: tuple[str, ...]
    slots: tuple[int, ...]
    keep: frozenset[int]

    def render(self, params: list[Any]) -> tuple[str, list[Any]]:
        """The SQL with the values written in, and the parameters left, numbered anew from $1 in order."""
        written: list[str] = []
        left: list[Any] = []
        for position, value in enumerate(params):
            text = None if position in self.keep else literal(value)
            if text is None:
                left.append(value)
                text = f"${len(left)}"
            written.append(text)
        out = [self.texts[0]]
        for slot, after in zip(self.slots, self.texts[1:], strict=True):
            out.append(written[slot])
            out.append(after)
        return "".join(out), left


def inliner(sql: str, names: tuple[str, ...], kept: Iterable[str]) -> Inliner:
    """`names`: the parameter name per position ($1 is names[0]); `kept`: the names that stay parameters."""
    texts: list[str] = []
    slots: list[int] = []
    start = 0
    for match in _TOKEN.finditer(sql):
        if match.group(1) is None:
            continue
        texts.append(sql[start : match.start()])
        slots.append(int(match.group(1)) - 1)
        start = match.end()
    texts.append(sql[start:])
    if sorted(set(slots)) != list(range(len(names))):
        raise ValueError("the statement's placeholders are not $1..$n of its parameters")
    kept = set(kept)
    return Inliner(tuple(texts), tuple(slots), frozenset(i for i, name in enumerate(names) if name in kept))


def literal(value: Any) -> str | None:
    """`value` as a PostgreSQL constant, or None when it must stay a parameter."""
    kind = type(value)
    if kind is str:
        text: str = value
        if "\x00" in text:
            return None
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    if kind is int:  # exactly int: a bool (an int subclass) stays a parameter
        return str(value) if value >= 0 else f"({value})"  # `- -1`, never `--1` (a comment)
    return None


class NotExact(Exception):
    """A value the rendered read cannot write as the ordinary path does: its page is read the ordinary way."""


def instant_text(expr: Any) -> ColumnElement[Any]:
    """A timestamptz as the text of its UTC timestamp in ISO form with a `T`: `2026-11-01T12:00:00.5`.

    asyncpg decodes a timestamptz into a datetime by Python arithmetic (a timedelta added to its epoch): ~0.55 us
    per value, about a fifth of the web process's CPU for an uncached 50-row reviews page (5 instants per row),
    against ~0.1 us of the server's for this text (measured on 10,000 pull requests, read, converted and written:
    web 300 -> 220-228 us, server 200-243 -> 235-255 us per page; under wrk -c32, 1,977-2,036 -> 2,093-2,253
    req/s). The text is the timestamp's output function's under DateStyle ISO, which the connections set
    (db/session.py); finish_instant checks its form and refuses any other.
    """
    utc = func.timezone(literal_column("'UTC'"), expr)
    return func.replace(cast(utc, Text), literal_column("' '"), literal_column("'T'"))


def finish_instant(text: str | None) -> str | None:
    """instant_text's text as orjson writes the instant (page.py): six digits of fraction, none when zero, `Z`.

    PostgreSQL writes the fraction without its trailing zeros (`.5`), none when zero. Any other text (another
    DateStyle, `infinity`, a year before 1 or after 9999) raises NotExact: the ordinary path decides about it.
    """
    if text is None:
        return None
    if text[4] == "-" and text[-1].isdigit():  # a 4-digit year, and no ` BC`
        size = len(text)
        if size == 19 or size == 26:  # `YYYY-MM-DDTHH:MM:SS` and `.ffffff`
            return text + "Z"
        if 21 <= size < 26:
            return text.ljust(26, "0") + "Z"
    raise NotExact(text)
