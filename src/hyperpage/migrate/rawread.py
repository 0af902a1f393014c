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

import binascii
import calendar
import re
import sqlite3
import struct
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from hyperpage.migrate import canon
from hyperpage.migrate.plan import Column, Endpoint, Table, quote_ident

FETCH = 20_000
SUM_FETCH = 5_000  # the sums' batches: a column at a time, a batch is held three times over (values, fields, rows)
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
_SUSPECT = re.compile("[\x00\x01\udc80-\udcff]")  # also U+0001: a row SQLite left to Python (or holding one)


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
        text = None
        if type(v) is str:
            micros = ts_micros(v)
            text = None if micros is None else canon.micros_text(micros)
        elif type(v) is int:
            text = canon.micros_text(v * (1_000_000 // divisor))
        elif isinstance(v, datetime):  # never from SQLite: kept for symmetry with canon
            text = canon.ts_text(v)
        return canon.odd(v) if text is None else f"z{text}"

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


def _decode(raw: bytes | bytearray) -> str:
    return raw.decode("utf-8", "surrogateescape")


# --- the same rules in SQLite's SQL, for the common storage class of each kind ------------------------------
# A field's SQL gives exactly the text the Python renderer above gives, or NULL: then the row is rendered in
# Python (rare values: a REAL in a timestamp column, text in an integer one). Doubles and JSON are always
# rendered in Python (SQLite prints no exact double; jsonb's text needs a JSON reader).

_YMD_HMS = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
# The whole text's shape in one GLOB chosen by its length (only the branch taken runs): SQLite evaluates every
# function call of a field anew for each value, and the separate checks of the fraction cost as much again
_TS_SHAPE = (
    "CASE length({c}) WHEN 19 THEN {c} GLOB '"
    + _YMD_HMS
    + "' "
    + " ".join(f"WHEN {n} THEN {{c}} GLOB '{_YMD_HMS}.{'[0-9]' * (n - 20)}'" for n in range(21, 27))
    + " END"
)
_SQL: dict[str, str] = {
    "int": "CASE typeof({c}) WHEN 'integer' THEN 'i' || {c} WHEN 'null' THEN 'N' END",
    "numeric": "CASE typeof({c}) WHEN 'integer' THEN 'n' || {c} WHEN 'null' THEN 'N' END",
    "bool": (
        "CASE typeof({c}) WHEN 'null' THEN 'N' WHEN 'integer' THEN CASE {c} WHEN 1 THEN 'T' WHEN 0 THEN 'F' END "
        "WHEN 'text' THEN CASE lower({c}) WHEN '1' THEN 'T' WHEN 't' THEN 'T' WHEN 'true' THEN 'T' "
        "WHEN '0' THEN 'F' WHEN 'f' THEN 'F' WHEN 'false' THEN 'F' END END"
    ),
    # integers are text of their digits; text is checked for NUL and invalid UTF-8 after the fetch (rows())
    "text": "CASE typeof({c}) WHEN 'text' THEN 's' || length({c}) || ':' || {c} "
    "WHEN 'integer' THEN 's' || length({c}) || ':' || {c} WHEN 'null' THEN 'N' END",
    "bytes": "CASE typeof({c}) WHEN 'blob' THEN 'x' || lower(hex({c})) WHEN 'null' THEN 'N' END",
    "date": (
        "CASE WHEN {c} IS NULL THEN 'N' WHEN typeof({c}) = 'text' AND {c} GLOB "
        "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND substr({c}, 1, 4) <> '0000' AND date(julianday({c})) = {c} "
        "THEN 'a' || {c} END"
    ),
    # YYYY-MM-DD[ T]HH:MM:SS[.f to .ffffff], naive (UTC), checked to be a real time, then printed as PostgreSQL
    # prints it (canon.ts_text): the separator a space, the fraction without trailing zeros. Text in, text out:
    # no date arithmetic per value (parsing it to an epoch was most of a timestamp field's cost).
    # Year 0000 exists in SQLite, not in Python or PostgreSQL: a substr(), as a column of NUMERIC affinity (DATE,
    # DATETIME) compared with '0000' compares the number 0, and any text is greater than a number
    "ts": (
        f"CASE WHEN {{c}} IS NULL THEN 'N' WHEN typeof({{c}}) = 'text' AND {_TS_SHAPE} "
        "AND substr({c}, 12, 2) < '24' AND substr({c}, 1, 4) <> '0000' "
        "AND (substr({c}, 9, 2) BETWEEN '01' AND '28' AND substr({c}, 6, 2) BETWEEN '01' AND '12' "
        "OR date(julianday(substr({c}, 1, 10))) = substr({c}, 1, 10)) "
        "THEN 'z' || substr({c}, 1, 10) || ' ' || "
        "CASE length({c}) WHEN 19 THEN substr({c}, 12) ELSE rtrim(rtrim(substr({c}, 12), '0'), '.') END "
        "WHEN typeof({c}) = 'integer' AND {c} BETWEEN {low} AND {high} THEN 'z' || {epoch} END"
    ),
}

# Unix epoch integers printed by SQLite's datetime() (exact for whole seconds) within Python's years 1 to 9999;
# in milliseconds or microseconds only from 1970 on (SQLite's integer division truncates towards zero), the
# fraction printed from the remainder. Other integers are left to Python (canon.micros_text)
_MIN_EPOCH, _MAX_EPOCH = -62135596800, 253402300799
_EPOCH_SQL = {
    1: "datetime({c}, 'unixepoch')",
    1000: "datetime({c} / 1000, 'unixepoch') || rtrim(rtrim('.' || printf('%03d', {c} % 1000), '0'), '.')",
    1_000_000: "datetime({c} / 1000000, 'unixepoch') || rtrim(rtrim('.' || printf('%06d', {c} % 1000000), '0'), '.')",
}


def _sql_field(column: Column, name: str) -> str | None:
    template = _SQL.get(column.kind)
    if template is None:
        return None
    c = quote_ident(name)
    d = column.epoch_divisor
    low = _MIN_EPOCH if d == 1 else 0
    epoch = _EPOCH_SQL[d].format(c=c) if d in _EPOCH_SQL else "NULL"
    return template.format(c=c, low=low, high=_MAX_EPOCH * d + d - 1, epoch=epoch)


def _select(
    table: Table, side: str, in_sql: frozenset[str] | None = None, joining: frozenset[str] = frozenset()
) -> tuple[list[str], list[Column | None]]:
    """The fast SELECT list: runs of SQL-rendered fields joined by "|" (None), and raw doubles and JSON (their
    Column, rendered in Python); with `in_sql`, only columns of those kinds are rendered in SQL, and columns of
    the `joining` kinds where they lengthen a run of them (next to a field rendered in SQL)."""
    names = [c.source if side == "source" else c.target for c in table.columns]
    sqls = [_sql_field(c, name) for c, name in zip(table.columns, names, strict=True)]
    chosen = [
        sql is not None and (in_sql is None or c.kind in in_sql) for c, sql in zip(table.columns, sqls, strict=True)
    ]
    grown = True
    while grown:  # a joining column next to a chosen one is chosen, and so on along a row of them
        grown = False
        for i, c in enumerate(table.columns):
            beside = (i > 0 and chosen[i - 1]) or (i + 1 < len(chosen) and chosen[i + 1])
            if not chosen[i] and c.kind in joining and sqls[i] is not None and beside:
                chosen[i] = grown = True
    exprs: list[str] = []
    python: list[Column | None] = []
    run: list[str] = []
    for c, name, sql, in_run in zip(table.columns, names, sqls, chosen, strict=True):
        if in_run:
            assert sql is not None
            run.append(sql)
            continue
        if run:
            exprs.append(_run(run))
            python.append(None)
            run = []
        exprs.append(quote_ident(name))
        python.append(c)
    if run:
        exprs.append(_run(run))
        python.append(None)
    return exprs, python


def _run(fields: list[str]) -> str:
    """Consecutive SQL fields as one text; a field left to Python makes it NULL, marked by U+0001 (see rows())."""
    return "coalesce(" + " || '|' || ".join(fields) + ", char(1))"


def _connect(endpoint: Endpoint) -> sqlite3.Connection:
    conn = sqlite3.connect(endpoint.sqlite_uri(), uri=True)
    conn.text_factory = _decode
    return conn


def rows(
    endpoint: Endpoint, table: Table, side: str, key: str | None, where: str = ""
) -> Iterator[list[tuple[Any, str]]]:
    """Batches of (row key, canonical text) of a SQLite table, read raw (`side` picks source or target names).

    SQLite renders the common values (see _SQL); a row with a value it leaves to Python, or with text that is
    not storable (U+0000, invalid UTF-8), is read again by its key and rendered in Python (_python_rows), as is
    a row holding U+0001 (a valid character, only costlier).
    """
    assert endpoint.path is not None
    name = table.source if side == "source" else table.target
    if key is None or key == "NULL":  # no key to read a row again by: everything in Python
        yield from _python_rows(endpoint, table, side, key, where)
        return
    exprs, python = _select(table, side)
    renders = [None if c is None else renderer(c) for c in python]
    conn = _connect(endpoint)
    conn.text_factory = bytes  # decoded below by a C method: a Python text_factory costs a call per value
    try:
        cur = conn.execute(f"SELECT {key}, {', '.join(exprs)} FROM {quote_ident(name)} {where}")
        while batch := cur.fetchmany(FETCH):
            yield _render_batch(endpoint, table, side, key, batch, renders)
    finally:
        conn.close()


def _render_batch(
    endpoint: Endpoint,
    table: Table,
    side: str,
    key: str,
    batch: list[tuple[Any, ...]],
    renders: list[Callable[[Any], str] | None],
) -> list[tuple[Any, str]]:
    """(row key, canonical text) of one fetched batch of _select()'s row; suspect rows read again in Python."""
    if key not in ("rowid", "_rowid_", "oid"):  # a WITHOUT ROWID table's key is text (bytes here)
        batch = [(_decode(r[0]), *r[1:]) for r in batch]
    if renders == [None]:
        out = [(r[0], r[1].decode("utf-8", "surrogateescape")) for r in batch]
    else:
        out = [
            (
                r[0],
                "|".join(
                    [
                        v.decode("utf-8", "surrogateescape")
                        if f is None
                        else ("N" if v is None else f(_decode(v) if type(v) is bytes else v))
                        for f, v in zip(renders, r[1:], strict=True)
                    ]
                ),
            )
            for r in batch
        ]
    if _SUSPECT.search("\n".join([text for _, text in out])):  # one scan of the batch, in C
        again = [k for k, text in out if _SUSPECT.search(text)]
        order = {k: i for i, (k, _) in enumerate(out)}  # rows keep their order (examples name the first)
        redo = set(again)
        out = [(k, text) for k, text in out if k not in redo]
        for chunk in range(0, len(again), FETCH):
            keys = ", ".join(literal(k) for k in again[chunk : chunk + FETCH])
            for part in _python_rows(endpoint, table, side, key, f"WHERE {key} IN ({keys})"):
                out += part
        out.sort(key=lambda row: order[row[0]])
    return out


# --- canonical rows as UTF-8 bytes, for the sums: the same text as rows() gives, built a column at a time ---------
# rows() has SQLite render most fields in SQL (a function call per value, most of the source side's cost) and
# decodes each row to str. The sums need only the bytes: text columns (and integers beside them, SQL_KINDS below)
# still come rendered by SQLite, the other values raw (text as bytearray, BLOBs as bytes: the text_factory tells
# the storage classes apart without a Python call per value), and each raw column of a batch is rendered by C
# calls over the whole column (map, join, one regular-expression match) when its values are of the usual
# classes, else value by value with the renderers above, as _python_rows() does. A batch with a
# REAL in a timestamp column (a Julian day, read by SQLite's strftime) or anything rows() would look at again
# (U+0000, U+0001, invalid UTF-8) is rendered by rows()' own code instead.

_hexlify = binascii.hexlify
_JSON_BYTES: dict[bytes, bytes] = {}
JSON_CACHED_BYTES = 4096
_TEXT = bytearray  # the text_factory of the sums' reads: a C type, called per text value without a Python frame
ColumnRender = Callable[[tuple[Any, ...]], list[bytes] | None]  # None: the batch is rendered by rows() instead


def _value_bytes(render: Callable[[Any], str]) -> Callable[[Any], bytes]:
    """A Python renderer of one raw value (text as bytearray) as UTF-8 bytes: what _python_rows() gives it."""

    def field(v: Any) -> bytes:
        if v is None:
            return b"N"
        return render(_decode(v) if type(v) is _TEXT else v).encode("utf-8", "surrogatepass")

    return field


def _by_value(render: Callable[[Any], str]) -> ColumnRender:
    field = _value_bytes(render)
    return lambda col: list(map(field, col))


Fast = Callable[[tuple[Any, ...]], list[bytes] | None]  # a column of one Python type, or None: not this way


def _column(fast: Fast, filler: Any, slow: Callable[[Any], bytes]) -> ColumnRender:
    """A column rendered by `fast` (C calls over the whole column; it takes one Python type), its NULLs set in
    place of a `filler` of that type (a list comprehension, no call per value), or value by value by `slow`."""

    def column(col: tuple[Any, ...]) -> list[bytes]:
        nulls = [i for i, v in enumerate(col) if v is None] if None in col else []
        out = fast(tuple([filler if v is None else v for v in col]) if nulls else col)
        if out is None:
            return list(map(slow, col))
        for i in nulls:
            out[i] = b"N"
        return out

    return column


def _numbers(tag: bytes, render: Callable[[Any], str]) -> ColumnRender:
    """Integers as tag + digits (%d in C)."""
    fmt = tag + b"%d"
    return _column(lambda col: list(map(fmt.__mod__, col)) if _only(col, int) else None, 0, _value_bytes(render))


def _only(col: tuple[Any, ...], kind: type) -> bool:
    return set(map(type, col)) == {kind}


_BOOL_BYTES = {0: b"F", 1: b"T"}
_BOOL_VALUES = frozenset(_BOOL_BYTES)


def _bool_fast(col: tuple[Any, ...]) -> list[bytes] | None:
    return list(map(_BOOL_BYTES.__getitem__, col)) if _only(col, int) and set(col) <= _BOOL_VALUES else None


def _blob_fast(col: tuple[Any, ...]) -> list[bytes] | None:
    return list(map(b"x".__add__, map(_hexlify, col))) if _only(col, bytes) else None


def _double_fast(col: tuple[Any, ...]) -> list[bytes] | None:
    return list(map(b"d".__add__, map(_hexlify, map(_double, col)))) if _only(col, float) else None


# The timestamps _SQL["ts"] renders, one a line: a real date (29 February checked apart), hours 00-23, at most
# microseconds, year 0000 excluded. Printed as PostgreSQL prints them: "T" (only the separator can be one) as a
# space, the fraction without trailing zeros.
_TS_LINE = (
    rb"(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-9])|(?:0[13-9]|1[0-2])-30|(?:0[13578]|1[02])-31)"
    rb"[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
)
_TS_LINES = re.compile(_TS_LINE + rb"(?:\n" + _TS_LINE + rb")*")
_FEB_29 = re.compile(rb"^([0-9]{4})-02-29", re.M)
_SOME_TIME = bytearray(b"2000-01-01 00:00:00")
_NO_FRACTION = len(_SOME_TIME)  # a matched line longer than this ends in "." and 1-6 digits


def _ts_fast(col: tuple[Any, ...]) -> list[bytes] | None:
    if not _only(col, _TEXT):
        return None
    lines = b"\n".join(col)
    if not _TS_LINES.fullmatch(lines):
        return None
    if b"-02-29" in lines and not all(calendar.isleap(int(y)) for y in _FEB_29.findall(lines)):
        return None
    fields = lines.replace(b"T", b" ").split(b"\n")
    # a fraction's trailing zeros, and its point when nothing is left: rstrip stops at the point or a digit 1-9.
    # Per value only where a line ends in 0 (a regular expression's substitution per match cost twice as much)
    if b"0\n" in lines or lines.endswith(b"0"):
        fields = [f.rstrip(b"0").rstrip(b".") if len(f) > _NO_FRACTION else f for f in fields]
    return list(map(b"z".__add__, fields))


def _ts_column(divisor: int) -> ColumnRender:
    column = _column(_ts_fast, _SOME_TIME, _value_bytes(_ts(divisor)))

    def render(col: tuple[Any, ...]) -> list[bytes] | None:
        if float in set(map(type, col)):  # a Julian day: _python_rows reads it with SQLite's strftime
            return None
        return column(col)

    return render


_json_any = _value_bytes(_json)


def _json_bytes(v: Any) -> bytes:
    """A JSON field, cached by the stored bytes: documents repeat (labels, "[]"), and a hit costs no decode."""
    if type(v) is _TEXT:
        v = bytes(v)
    out = _JSON_BYTES.get(v) if type(v) is bytes else None
    if out is not None:
        return out
    if type(v) is not bytes:
        return _json_any(v)
    if canon.jsonb_as_stored(v):  # no parse, no new text: half the cost of a document seen once
        # (invalid UTF-8 is left in the row for row_bytes' check of the batch, which then renders it as rows() does)
        out = b"j" + v
    else:
        try:
            doc = canon.jsonb_text(v.decode("utf-8")) if b"\x00" not in v else None
        except UnicodeDecodeError:
            doc = None
        if doc is None:  # not UTF-8, or not a document jsonb holds: the str path says how it fails
            return _json_any(v)
        out = b"j" + doc.encode("utf-8", "surrogatepass")
    if len(v) <= JSON_CACHED_BYTES:  # documents that repeat are small: a cache of big ones would only take memory
        if len(_JSON_BYTES) >= canon.JSON_CACHE_MAX:
            _JSON_BYTES.clear()
        _JSON_BYTES[v] = out
    return out


def _json_fast(col: tuple[Any, ...]) -> list[bytes] | None:
    """When every document is already jsonb's text (one regular-expression match over the whole column, in C),
    the stored bytes are the fields; else None (document by document, _json_bytes)."""
    return list(map(b"j".__add__, col)) if _only(col, _TEXT) and canon.jsonb_as_stored_all(col) else None


def _column_render(column: Column) -> ColumnRender:
    """A column of a batch (raw values) to its fields as UTF-8 bytes, each as rows() renders it."""
    kind = column.kind
    if kind in ("int", "numeric"):
        return _numbers(b"i" if kind == "int" else b"n", renderer(column))
    if kind == "ts":
        return _ts_column(column.epoch_divisor)
    fast: dict[str, tuple[Fast, Any, Callable[[Any], bytes]]] = {
        "bool": (_bool_fast, 0, _value_bytes(_bool)),
        "bytes": (_blob_fast, b"", _value_bytes(_bytes)),
        "float": (_double_fast, 0.0, _value_bytes(_float)),
        "json": (_json_fast, _TEXT(b"null"), _json_bytes),
    }
    if kind in fast:
        return _column(*fast[kind])
    return _by_value(renderer(column))


def _clean(rows: list[bytes]) -> bool:
    """No row holds U+0000, U+0001 (which rows() reads again) or invalid UTF-8: one C pass over the batch."""
    blob = b"\n".join(rows)
    if b"\x00" in blob or b"\x01" in blob:
        return False
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def row_bytes(
    endpoint: Endpoint, table: Table, side: str, key: str | None, where: str = ""
) -> Iterator[tuple[list[Any], list[bytes]]]:
    """Batches of (row keys, canonical rows as UTF-8 bytes): rows() as bytes (see above), for the sums."""
    if key is None or key == "NULL":
        for batch in _python_rows(endpoint, table, side, key, where):
            yield [k for k, _ in batch], [text.encode("utf-8", "surrogatepass") for _, text in batch]
        return
    assert endpoint.path is not None
    name = table.source if side == "source" else table.target
    exprs, renders = _sums_select(table, side)
    conn = _connect(endpoint)
    conn.text_factory = _TEXT
    try:
        cur = conn.execute(f"SELECT {key}, {', '.join(exprs)} FROM {quote_ident(name)} {where}")
        while batch := cur.fetchmany(SUM_FETCH):
            columns = list(zip(*batch, strict=True))
            keys = list(columns[0])
            if key not in ("rowid", "_rowid_", "oid"):  # a WITHOUT ROWID table's key is text (bytearray here)
                keys = [_decode(k) if type(k) is _TEXT else k for k in keys]
            parts = [render(col) for render, col in zip(renders, columns[1:], strict=True)]
            if all(p is not None for p in parts):
                out = list(parts[0]) if len(parts) == 1 else list(map(b"|".join, zip(*parts, strict=True)))  # type: ignore[arg-type]
                if _clean(out):
                    yield keys, out
                    continue
            yield _again(endpoint, table, side, key, keys)
    finally:
        conn.close()


# Text is rendered by SQLite in SQL (_SQL["text"]), runs of it as one value: a wide table of text columns costs
# a Python object per value fetched, more than SQLite's concatenation (the Hyperpage database's 21-column tables).
# Integers join such a run where they stand next to it: one value fewer to fetch, transpose and join per row
# (source side CPU, median of five: the Hyperpage database's four big tables 6% less, the generic file's table 8%,
# its id joining its name). Integers standing alone stay in Python: every integer in SQL gained nothing there.
SQL_KINDS = frozenset({"text"})
JOINING_KINDS = frozenset({"int"})


def _sums_select(table: Table, side: str) -> tuple[list[str], list[ColumnRender]]:
    """The sums' SELECT list: runs of SQL-rendered fields (a U+0001 marks a value left to Python: the batch check
    sends the batch to rows()) and raw columns rendered a column at a time, with their renderers."""
    exprs, python = _select(table, side, SQL_KINDS, JOINING_KINDS)
    return exprs, [list if c is None else _column_render(c) for c in python]


def _again(endpoint: Endpoint, table: Table, side: str, key: str, keys: list[Any]) -> tuple[list[Any], list[bytes]]:
    """A batch rendered by rows() (read again by its keys, in the same order), as UTF-8 bytes."""
    done: list[tuple[Any, str]] = []
    for chunk in range(0, len(keys), FETCH):
        listed = ", ".join(literal(k) for k in keys[chunk : chunk + FETCH])
        for batch in rows(endpoint, table, side, key, f"WHERE {key} IN ({listed})"):
            done += batch
    return [k for k, _ in done], [text.encode("utf-8", "surrogatepass") for _, text in done]


def literal(value: Any) -> str:
    """A row key as an SQL literal (an integer rowid, or the text of a WITHOUT ROWID table's quoted key)."""
    if type(value) is int:
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _python_rows(
    endpoint: Endpoint, table: Table, side: str, key: str | None, where: str = ""
) -> Iterator[list[tuple[Any, str]]]:
    """Batches of (row key, canonical text) with every value rendered in Python (rows() for the rare rows)."""
    name = table.source if side == "source" else table.target
    exprs, renders, julian = [], [], []
    for c in table.columns:
        col = quote_ident(c.source if side == "source" else c.target)
        exprs.append(col)
        renders.append(renderer(c))
        if c.kind == "ts":  # SQLite's own reading of a Julian-day REAL, to the millisecond as datetime() does
            exprs.append(f"CASE WHEN typeof({col}) = 'real' THEN strftime('%Y-%m-%d %H:%M:%f', {col}) END")
            julian.append(len(exprs) - 2)
    conn = _connect(endpoint)
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
