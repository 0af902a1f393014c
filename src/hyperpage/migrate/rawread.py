"""The SQLite side of verification, read without the copy's converters: raw values, our own rules, canon's text.

Verification must not share the conversion it checks (issue 16: a converter that truncated 7-digit fractions
verified its own truncation). So this module reads SQLite's stored values with the standard library alone
(bytes decoded here, never through typing_rules or hyperpage_mode), and states what each stored value must
become in a column of each kind, in the canonical text canon.py defines for both sides:

- an integer column holds integers; a double column holds the very same IEEE bits (an integer only if exact);
- a timestamp is text in one of SQLite's own date/time formats (https://www.sqlite.org/lang_datefunc.html),
  naive meaning UTC, at most microseconds (a non-zero 7th digit cannot be stored, so it never matches); a REAL
  is a Julian day read by SQLite's own strftime(); an integer is Unix epoch in the unit the plan announced;
- text is valid UTF-8 without U+0000; numbers written as text are their shortest exact form;
- booleans are 0/1/t/f/true/false; dates are YYYY-MM-DD; JSON is compared by canon's number-exact form.
"""

from __future__ import annotations

import re
import sqlite3
import struct
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from hyperpage.migrate import canon
from hyperpage.migrate.plan import Column, Endpoint, Table, quote_ident

FETCH = 20_000
_TS = re.compile(
    r"\s*(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?\s*"
    r"(Z|[+-]\d\d:\d\d)?\s*",
    re.I,
)
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_BOOL = {"0": "F", "1": "T", "f": "F", "t": "T", "false": "F", "true": "T"}
_double = struct.Struct(">d").pack
_EPOCH_DAYS = date(1970, 1, 1).toordinal()


_UNSTORABLE = re.compile("[\x00\udc80-\udcff]")


def _good_text(v: str) -> bool:
    """Decoded with surrogateescape: a lone surrogate marks a byte that was not UTF-8; U+0000 fits no text."""
    return _UNSTORABLE.search(v) is None


def _int(v: Any) -> str:
    return f"i{v}" if type(v) is int else canon.odd(v)


def _float(v: Any) -> str:
    if type(v) is float:
        return "d" + _double(v).hex()
    if type(v) is int and float(v) == v:  # exact comparison: int 2**53 + 1 is not equal to any double
        return "d" + _double(float(v)).hex()
    return canon.odd(v)


def _numeric(v: Any) -> str:
    return canon.RENDER["numeric"](v) if type(v) in (int, float) else canon.odd(v)


def _bool(v: Any) -> str:
    if type(v) is int and v in (0, 1):
        return "T" if v else "F"
    if type(v) is str and v.lower() in _BOOL:
        return _BOOL[v.lower()]
    return canon.odd(v)


def _text(v: Any) -> str:
    if type(v) is str:
        return f"s{len(v)}:{v}" if _good_text(v) else canon.odd(v)
    if type(v) is int:
        v = str(v)
    elif type(v) is float:
        v = repr(v)
    elif type(v) is bytes:
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            return canon.odd(v)
        if "\x00" in v:
            return canon.odd(v)
    else:
        return canon.odd(v)
    return f"s{len(v)}:{v}"


def _bytes(v: Any) -> str:
    if type(v) is bytes:
        return "x" + v.hex()
    if type(v) is str and _good_text(v):
        return "x" + v.encode("utf-8").hex()
    return canon.odd(v)


def _date(v: Any) -> str:
    if type(v) is str and _DATE.fullmatch(v.strip()):
        try:
            return "a" + date.fromisoformat(v.strip()).isoformat()
        except ValueError:
            pass
    return canon.odd(v)


_DAYS: dict[tuple[str, str, str], int | None] = {}


def _days(y: str, mo: str, d: str) -> int | None:
    """Days since 1970-01-01 of a calendar date (cached: a table's timestamps share few dates)."""
    key = (y, mo, d)
    days = _DAYS.get(key, -1)
    if days == -1:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        try:
            days = date(int(y), int(mo), int(d)).toordinal() - _EPOCH_DAYS
        except ValueError:
            days = None
        _DAYS[key] = days
    return days


def ts_micros(text: str) -> int | None:
    """Microseconds since 1970 UTC of a SQLite date/time text, or None (not one, or finer than microseconds)."""
    m = _TS.fullmatch(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    if frac and frac[6:].strip("0"):
        return None
    days = _days(y, mo, d)
    if days is None:
        return None
    hh, mm, ss = int(h or 0), int(mi or 0), int(s or 0)
    if hh > 23 or mm > 59 or ss > 59:
        return None
    micros = ((days * 24 + hh) * 60 + mm) * 60 + ss
    micros = micros * 1_000_000 + int((frac or "0")[:6].ljust(6, "0"))
    if tz and tz.upper() != "Z":
        sign = -1 if tz[0] == "-" else 1
        micros -= sign * (int(tz[1:3]) * 60 + int(tz[4:6])) * 60_000_000
    return micros


def _ts(divisor: int) -> Callable[[Any], str]:
    def render(v: Any) -> str:
        if type(v) is tuple:  # (REAL, SQLite's strftime of it): a Julian day, read by SQLite itself
            v = v[1]
        if type(v) is str:
            micros = ts_micros(v)
            return canon.odd(v) if micros is None else f"z{micros}"
        if type(v) is int:
            return f"z{v * (1_000_000 // divisor)}"
        if isinstance(v, datetime):  # never from SQLite: kept for symmetry with canon
            return f"z{(v.astimezone(UTC) - canon.EPOCH) // canon.ONE_US}"
        return canon.odd(v)

    return render


def _json(v: Any) -> str:
    return canon.canonical_json(v) if type(v) is str and _good_text(v) else canon.odd(v)


RENDER: dict[str, Callable[[Any], str]] = {
    "int": _int,
    "float": _float,
    "numeric": _numeric,
    "bool": _bool,
    "text": _text,
    "bytes": _bytes,
    "date": _date,
    "json": _json,
}


def renderer(column: Column) -> Callable[[Any], str]:
    return _ts(column.epoch_divisor) if column.kind == "ts" else RENDER[column.kind]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def rows(
    endpoint: Endpoint, table: Table, side: str, key: str | None, where: str = ""
) -> Iterator[list[tuple[Any, str]]]:
    """Batches of (row key, canonical text) of a SQLite table, read raw (`side` picks source or target names)."""
    assert endpoint.path is not None
    name = table.source if side == "source" else table.target
    exprs, renders, julian = [], [], []
    for c in table.columns:
        col = quote_ident(c.source if side == "source" else c.target)
        exprs.append(col)
        renders.append(renderer(c))
        if c.kind == "ts":  # SQLite's own reading of a Julian-day REAL, to the millisecond as datetime() does
            exprs.append(f"CASE WHEN typeof({col}) = 'real' THEN strftime('%Y-%m-%d %H:%M:%f', {col}) END")
            julian.append(len(exprs) - 2)
    conn = sqlite3.connect(endpoint.sqlite_uri(), uri=True)
    conn.text_factory = _decode
    try:
        cur = conn.execute(f"SELECT {key or 'NULL'}, {', '.join(exprs)} FROM {quote_ident(name)} {where}")
        while batch := cur.fetchmany(FETCH):
            if julian:
                batch = [_fold_julian(r, julian) for r in batch]
            yield [
                (r[0], "|".join(["N" if v is None else f(v) for f, v in zip(renders, r[1:], strict=True)]))
                for r in batch
            ]
    finally:
        conn.close()


def _fold_julian(row: tuple[Any, ...], at: list[int]) -> tuple[Any, ...]:
    """Put each timestamp column's SQLite reading next to its raw value: (REAL, text) for a REAL, else the value."""
    out, skip = [row[0]], set()
    for i in at:
        skip.add(i + 1)
    for i, v in enumerate(row[1:]):
        if i in skip:
            continue
        if i in at and type(v) is float:
            v = (v, row[i + 2])
        out.append(v)
    return tuple(out)
