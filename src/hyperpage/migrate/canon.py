"""One canonical text per row, built the same way from Python values and by PostgreSQL in SQL.

A row is its fields joined by "|", each field a tag and the value: "N" for NULL, "i42", "T"/"F", "d" + the 16 hex
digits of the IEEE-754 double (exact, no decimal rounding), "n" + the exact decimal without trailing zeros, "z" +
the UTC time as PostgreSQL prints a timestamp (DateStyle ISO: "2024-01-02 03:04:05.12", no zone, the fraction
without trailing zeros: exact to the microsecond, and cheap on both sides, unlike arithmetic on epochs), "a" + ISO
date, "x" + hex bytes, "s" + length + ":" + text, whose length prefix keeps a "|" inside a value from shifting the
fields, and "j" + JSON as jsonb prints it (its key order, spacing and numbers; a JSON value ends by itself, so it
needs no length). A value of an unexpected type gets the "?" tag, which PostgreSQL never produces, so it can
only mismatch.

PostgreSQL renders every field in the server (C, no Python object per value; jsonb prints JSON); the SQLite side
writes jsonb's text with Python's own JSON reader (jsonb_text), cached because documents repeat (labels, "[]").
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from hyperpage.migrate.plan import quote_ident

NAIVE_EPOCH = datetime(1970, 1, 1)
ONE_US = timedelta(microseconds=1)
_double = struct.Struct(">d").pack
_json_cache: dict[str, str] = {}


class _NotJsonb(ValueError):
    """A JSON text jsonb cannot hold (NaN, Infinity, \\u0000): it matches nothing PostgreSQL renders."""


def _reject_constant(name: str) -> Any:
    raise _NotJsonb(name)


def _utf8_length(key: str) -> int:
    return len(key.encode("utf-8", "surrogatepass"))


_KEY_ORDER: dict[tuple[str, ...], tuple[str, ...] | None] = {}  # an object's keys -> jsonb's order (None: same)


def _jsonb_order(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """jsonb's order of distinct keys: shorter first (in UTF-8 bytes), then bytewise; None if `keys` is in it.

    Sorted twice by C key functions (str order, then a stable sort by length) rather than by one Python lambda.
    Code point order is UTF-8's byte order, and an ASCII key's length is its length in bytes.
    """
    order = sorted(keys)
    order.sort(key=len if all(map(str.isascii, order)) else _utf8_length)
    return None if tuple(order) == keys else tuple(order)


def _jsonb_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object in jsonb's key order (see _jsonb_order); the last duplicate wins.

    Called once per JSON object, this was most of the SQLite side's JSON cost: the order is looked up by the
    object's keys, as the objects of a column mostly share their keys ({"k": 1, "tags": []} in every row).
    """
    obj = dict(pairs)
    if len(obj) < 2:
        return obj
    keys = tuple(obj)
    order = _KEY_ORDER.get(keys, keys)
    if order is keys:
        if len(_KEY_ORDER) >= JSON_CACHE_MAX:
            _KEY_ORDER.clear()
        order = _KEY_ORDER[keys] = _jsonb_order(keys)
    return obj if order is None else {k: obj[k] for k in order}


# A number with a fraction or exponent is decoded as a marked string and written back as numeric_out() writes it
_MARK = "\x00"
_json_in = json.JSONDecoder(
    object_pairs_hook=_jsonb_object, parse_float=lambda text: _MARK + text, parse_constant=_reject_constant
)
_json_out = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))  # jsonb's spacing; built once: faster
_MARKED = re.compile(r'"\\u0000([^"]*)"')
# The C parts of the json module called directly: JSONDecoder.decode and JSONEncoder.encode add a few Python calls
# per document, as much again as the C work on a typical small document
_scan: Callable[[str, int], tuple[Any, int]] = _json_in.scan_once  # type: ignore[attr-defined]
_encode: Callable[[Any, int], list[str]] | None = (
    c_make_encoder(None, None, encode_basestring, None, ": ", ", ", False, False, True) if c_make_encoder else None
)
_JSON_SPACE = " \t\n\r"
JSON_CACHE_MAX = 50_000


def _numeric_out(match: re.Match[str]) -> str:
    """numeric_out() of a JSON number: exact digits, the input's scale (1.50 stays 1.50), no exponent, no -0."""
    exact = Decimal(match.group(1))
    if not -16383 <= exact.adjusted() <= 131071:  # beyond numeric's range: jsonb refuses it, nothing matches
        return f"?{match.group(1)}"
    text = format(exact, "f")
    return text.lstrip("-") if exact.is_zero() else text


def jsonb_text(text: str) -> str | None:
    """The text PostgreSQL's jsonb output gives for a JSON document, or None if jsonb cannot hold it.

    Written without PostgreSQL (Python's own JSON reader): keys in jsonb's order, ", " and ": ", strings escaped
    as jsonb escapes them, numbers as numeric prints them. The SQLite side of verification renders JSON with it.
    """
    if "\\u0000" in text:
        return None
    text = text.strip(_JSON_SPACE)  # a JSON value never ends in whitespace: what is outside it is padding
    try:
        value, end = _scan(text, 0)
        if end != len(text):
            return None
        doc = "".join(_encode(value, 0)) if _encode is not None else _json_out.encode(value)
    except (StopIteration, ValueError, RecursionError):
        return None
    return _MARKED.sub(_numeric_out, doc) if "\\u0000" in doc else doc  # the input had none: all are marks


# A document already in jsonb's output form, recognised without parsing it (most stored JSON, written by a JSON
# writer with ", " and ": "): one object or array of strings, integers and literals (arrays of those as values),
# strings without escapes, control characters or ":" (so that `": ` ends a key and nothing else), integers
# without a sign on zero. jsonb prints such a document as it is when its keys are in jsonb's order (checked apart).
_FLAT_STR = rb'"[^"\\\x00-\x1f:]*"'
_FLAT_SCALAR = rb"(?:" + _FLAT_STR + rb"|0|-?[1-9][0-9]{0,999}|true|false|null)"
_FLAT_VALUE = rb"(?:" + _FLAT_SCALAR + rb"|\[(?:" + _FLAT_SCALAR + rb"(?:, " + _FLAT_SCALAR + rb")*)?\])"
_FLAT_PAIR = _FLAT_STR + rb": " + _FLAT_VALUE
_FLAT = re.compile(rb"\{(?:" + _FLAT_PAIR + rb"(?:, " + _FLAT_PAIR + rb")*)?\}|" + _FLAT_VALUE)
_FLAT_KEY = re.compile(rb'"([^"]*)": ')
_KEYS_IN_ORDER: dict[tuple[bytes, ...], bool] = {}


def jsonb_as_stored(raw: bytes) -> bool:
    """Whether jsonb prints this UTF-8 document exactly as it is (see _FLAT); False means "not known", not "no"."""
    if _FLAT.fullmatch(raw) is None:
        return False
    return _keys_in_order(tuple(_FLAT_KEY.findall(raw)))


# Documents one a line: a flat document holds no control character, so "\n" only separates them
_FLAT_LINES = re.compile(rb"(?:" + _FLAT.pattern + rb")(?:\n(?:" + _FLAT.pattern + rb"))*")


def jsonb_as_stored_all(docs: tuple[Any, ...]) -> bool:
    """jsonb_as_stored of every document of a column at once (bytes or bytearray, no NULL): one match over them
    all, then the distinct key lists (a column's objects mostly share theirs) checked for jsonb's order."""
    if not docs or not set(map(type, docs)) <= {bytes, bytearray}:
        return False
    lines = b"\n".join(docs)
    shape = _shape(tuple(_FLAT_KEY.findall(docs[0])))
    if shape is not None and shape.fullmatch(lines):  # every document an object with the first one's keys
        return True
    if _FLAT_LINES.fullmatch(lines) is None:
        return False
    return all(map(_keys_in_order, set(map(tuple, map(_FLAT_KEY.findall, docs)))))


_SHAPES: dict[tuple[bytes, ...], re.Pattern[bytes] | None] = {}
_SHAPES_MAX = 256
_KEY_TEXT = re.compile(rb'[^"\\\x00-\x1f:]*')


def _shape(keys: tuple[bytes, ...]) -> re.Pattern[bytes] | None:
    """Flat objects with exactly these keys (in jsonb's order), one a line: one match checks a whole column whose
    objects share their keys, where finding each object's keys costs a call per document."""
    if keys not in _SHAPES:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        good = keys and _keys_in_order(keys) and all(_KEY_TEXT.fullmatch(k) for k in keys)
        one = rb"\{" + rb", ".join(re.escape(b'"' + k + b'": ') + _FLAT_VALUE for k in keys) + rb"\}"
        _SHAPES[keys] = re.compile(one + rb"(?:\n" + one + rb")*") if good else None
    return _SHAPES[keys]


def _keys_in_order(keys: tuple[bytes, ...]) -> bool:
    if len(keys) < 2:
        return True
    ordered = _KEYS_IN_ORDER.get(keys)
    if ordered is None:
        if len(_KEYS_IN_ORDER) >= JSON_CACHE_MAX:
            _KEYS_IN_ORDER.clear()
        # jsonb's order: shorter first (in bytes), then bytewise; strictly, as a duplicate key is dropped
        rank = [(len(k), k) for k in keys]
        ordered = _KEYS_IN_ORDER[keys] = all(a < b for a, b in pairwise(rank))
    return ordered


def odd(v: Any) -> str:
    """A value of the wrong type: never equal to anything PostgreSQL renders, length-prefixed like text."""
    text = repr(v)
    return f"?{len(text)}:{text}"


def _int(v: Any) -> str:
    return f"i{v}" if type(v) is int else odd(v)


def _float(v: Any) -> str:
    if type(v) is float:
        return "d" + _double(v).hex()
    if type(v) is int and float(v) == v:  # an integer copied into a double column: equal only if exact
        return "d" + _double(float(v)).hex()
    return odd(v)


def _numeric(v: Any) -> str:
    if type(v) is int:
        return f"n{v}"
    if isinstance(v, float):
        v = Decimal(repr(v))
    if not isinstance(v, Decimal):
        return odd(v)
    if not v.is_finite():
        return "nNaN" if v.is_nan() else ("n-Infinity" if v < 0 else "nInfinity")
    text = format(v, "f")  # exact: no context rounding, unlike Decimal.normalize()
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "n0" if text in ("-0", "0") else f"n{text}"


_BOOLS = {True: "T", False: "F"}  # 1 and 0 (a SQLite target's booleans) hash as True and False


def _bool(v: Any) -> str:
    if type(v) in (bool, int) and v in _BOOLS:
        return _BOOLS[v]
    return odd(v)


def _text(v: Any) -> str:
    return f"s{len(v)}:{v}" if type(v) is str else odd(v)


def _bytes(v: Any) -> str:
    return "x" + bytes(v).hex() if isinstance(v, bytes | bytearray | memoryview) else odd(v)


def ts_text(v: datetime) -> str | None:
    """A timestamp as PostgreSQL prints it in UTC with DateStyle ISO, without the zone (None: it cannot print it).

    Naive means UTC, as everywhere in the migration. The fraction has no trailing zeros and no "." when it is 0.
    """
    if v.tzinfo is not None:
        try:
            v = v.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # out of Python's years once in UTC: neither can PostgreSQL's year be printed alike
            return None
    text = v.isoformat(" ")
    return text.rstrip("0") if v.microsecond else text


def micros_text(micros: int) -> str | None:
    """ts_text of a time given in microseconds since 1970 UTC (None beyond the years 1 to 9999)."""
    try:
        return ts_text(NAIVE_EPOCH + micros * ONE_US)
    except OverflowError:
        return None


def _ts(v: Any) -> str:
    if isinstance(v, str):  # a SQLite target's text, or the way back's converted value
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            return odd(v)
    if not isinstance(v, datetime):
        return odd(v)
    text = ts_text(v)
    return odd(v) if text is None else f"z{text}"


def _date(v: Any) -> str:
    if isinstance(v, str):
        try:
            v = date.fromisoformat(v)
        except ValueError:
            return odd(v)
    return f"a{v.isoformat()}" if isinstance(v, date) and not isinstance(v, datetime) else odd(v)


def canonical_json(text: str) -> str:
    """A JSON field: jsonb's text of the document (see jsonb_text), cached by the exact input text."""
    out = _json_cache.get(text)
    if out is None:
        if len(_json_cache) >= JSON_CACHE_MAX:
            _json_cache.clear()
        doc = jsonb_text(text)
        if doc is None:
            return odd(text)
        out = _json_cache[text] = f"j{doc}"
    return out


def _json(v: Any) -> str:
    if isinstance(v, str):
        return canonical_json(v)
    if not isinstance(v, dict | list):
        return odd(v)
    return canonical_json(json.dumps(v))


RENDER: dict[str, Callable[[Any], str]] = {
    "int": _int,
    "float": _float,
    "numeric": _numeric,
    "bool": _bool,
    "text": _text,
    "bytes": _bytes,
    "ts": _ts,
    "date": _date,
    "json": _json,
}

# The same fields rendered by PostgreSQL (session TimeZone=UTC, DateStyle=ISO); NULL stays NULL until coalesced.
_PG = {
    "int": "'i' || {c}::text",
    "float": "'d' || encode(float8send({c}::float8), 'hex')",
    "numeric": "'n' || trim_scale({c})::text",
    "bool": "CASE {c} WHEN true THEN 'T' WHEN false THEN 'F' END",
    "text": "'s' || length({c}) || ':' || {c}",
    "bytes": "'x' || encode({c}, 'hex')",
    "ts": "'z' || ({c} AT TIME ZONE 'UTC')::text",  # timestamptz; a timestamp without zone is UTC already
    "date": "'a' || {c}::text",
    "json": "'j' || {c}::jsonb::text",  # jsonb's own text (json: as jsonb)
}
_PG_NAIVE_TS = "'z' || {c}::text"


# The target column types each template is written for (format_type without its modifier). A column of any
# other type (a tool other than ours created the schema) is read as a plain value and rendered in Python.
PG_TYPES = {
    "int": {"smallint", "integer", "bigint"},
    "float": {"double precision", "real"},
    "numeric": {"numeric"},
    "bool": {"boolean"},
    "text": {"text", "character varying", "character"},
    "bytes": {"bytea"},
    "ts": {"timestamp with time zone", "timestamp without time zone"},
    "date": {"date"},
    "json": {"jsonb", "json"},
}


def pg_field(kind: str, column: str, actual: str | None = None) -> str | None:
    """SQL for one field's canonical text, or None when Python renders it (JSON, or a column of another type)."""
    template = _PG.get(kind)
    if template is None or (actual is not None and actual.split("(")[0] not in PG_TYPES[kind]):
        return None
    if kind == "ts" and actual is not None and actual.startswith("timestamp without"):
        template = _PG_NAIVE_TS
    return f"coalesce({template.format(c=quote_ident(column))}, 'N')"


MAX_ARGS = 90  # concat_ws takes at most 100 arguments (FUNC_MAX_ARGS)


def pg_row(fields: list[str]) -> str:
    """SQL joining fields (pg_field's, never NULL) with "|": concat_ws builds the text once, where a chain of ||
    copies it at every step (a third of the row's cost on a table of nine columns)."""
    if len(fields) == 1:
        return fields[0]
    chunks = [fields[i : i + MAX_ARGS] for i in range(0, len(fields), MAX_ARGS)]
    parts = [c[0] if len(c) == 1 else f"concat_ws('|', {', '.join(c)})" for c in chunks]
    return parts[0] if len(parts) == 1 else pg_row(parts)


_JSON_EXTENT = json.JSONDecoder()


def _field_end(row: str, i: int) -> int:
    """Where the field starting at `i` ends: a length-prefixed one by its length (it may hold "|"), a JSON one where
    its value ends, others at "|"."""
    if row[i] in "s?":
        colon = row.index(":", i)
        return colon + 1 + int(row[i + 1 : colon])
    if row.startswith("j", i):
        try:
            return _JSON_EXTENT.raw_decode(row, i + 1)[1]
        except ValueError:  # a number numeric cannot hold, marked "?" (see _numeric_out): no "|" in the document
            pass
    end = row.find("|", i)
    return len(row) if end < 0 else end


def split_fields(row: str) -> list[str]:
    """The fields of a canonical row again (for naming the columns of a mismatch)."""
    fields, i = [], 0
    while i < len(row):
        end = _field_end(row, i)
        fields.append(row[i:end])
        i = end + 1
    return fields


def first_field(row: str) -> str:
    return row[: _field_end(row, 0)]


def readable(field: str) -> str:
    """A field as an operator reads it: doubles and timestamps decoded, long values cut."""
    if field.startswith("d") and len(field) == 17:
        text = repr(struct.unpack(">d", bytes.fromhex(field[1:]))[0])
    elif field.startswith("z") and (at := _parsed_ts(field[1:])) is not None:
        text = at.isoformat()
    elif field in ("N", "T", "F"):
        text = {"N": "NULL", "T": "true", "F": "false"}[field]
    else:
        text = field[field.index(":") + 1 :] if field[0] in "s?" else field[1:]
        text = repr(text) if field[0] == "s" else text
    return text if len(text) <= 60 else text[:57] + "..."


def _parsed_ts(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def render_row(renderers: list[Callable[[Any], str]], row: Any) -> str:
    return "|".join(["N" if v is None else r(v) for r, v in zip(renderers, row, strict=True)])
