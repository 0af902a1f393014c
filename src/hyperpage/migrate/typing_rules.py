"""Type decisions for any SQLite column: declared type, SQLite's affinity rules, then the values actually stored.

The rule of thumb: a column gets a narrower PostgreSQL type only when every stored value converts to it without
loss; otherwise it is widened (numeric, then text) and the decision says why. Converters are module-level
functions (or partials of them) so the plan can be sent to worker processes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from hyperpage.migrate.plan import Reject

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BOOL_TEXT = {"0": False, "1": True, "t": True, "f": False, "true": True, "false": False}
INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
WIDER = {"smallint": "integer", "integer": "bigint", "bigint": "bigint"}


def affinity(declared: str) -> str:
    """SQLite's own rules, in its order (https://www.sqlite.org/datatype3.html section 3.1)."""
    d = declared.upper()
    if "INT" in d:
        return "INTEGER"
    if any(s in d for s in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in d or not d.strip():
        return "BLOB"
    if any(s in d for s in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def int_type(declared: str) -> str:
    d = declared.upper()
    base = d.split("(")[0].replace("UNSIGNED", "").strip()
    if base in ("TINYINT", "SMALLINT", "INT2"):
        kind = "smallint"
    elif base in ("MEDIUMINT", "INT", "INT4"):
        kind = "integer"
    else:  # INTEGER in SQLite is 64-bit, like BIGINT and INT8
        kind = "bigint"
    return WIDER[kind] if "UNSIGNED" in d else kind


@dataclass
class Profile:
    """What a column holds: counts per storage class and facts gathered by scanning candidate columns."""

    n_int: int = 0
    n_real: int = 0
    n_text: int = 0
    n_blob: int = 0
    n_null: int = 0
    min_int: int | None = None  # None also in a boolean or date column whose every value SQLite proved fits:
    max_int: int | None = None  # no range changes such a column's type, so profile.py does not read one
    nul_text: int = 0  # text values containing U+0000 (PostgreSQL text cannot hold it)
    bad_utf8: int = 0
    blob_not_utf8: int = 0
    bool_ok: bool = False
    json_ok: bool = False
    json_problem: str = ""
    date_ok: bool = False
    ts_ok: bool = False
    ts_plain: bool = False  # every value is text of a form PostgreSQL reads as the Python check does
    ts_problem: str = ""
    epoch_divisor: int = 1
    sub_microsecond: int = 0  # date/time text with non-zero digits below the microsecond
    unproven: int = 0  # values of a candidate column SQLite could not prove fit (then each is checked in Python)
    examples: list[str] = field(default_factory=list)


# --- converters -------------------------------------------------------------------------------------------


def to_bool(value: Any) -> bool:
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in BOOL_TEXT:
        return BOOL_TEXT[value.lower()]
    raise Reject(f"{value!r} is not a boolean")


JULIAN_UNIX_MS = 210_866_760_000_000  # 2440587.5 days (Julian day of 1970-01-01 00:00 UTC) in milliseconds
FRACTION = re.compile(r"[.,](\d{7,})")


def parse_ts(value: Any, divisor: int = 1) -> datetime:
    """ISO-8601 text (naive means UTC, as SQLite's CURRENT_TIMESTAMP), epoch integers, or Julian-day REALs.

    Numbers are read the way SQLite's own functions read them: a REAL is a Julian day number, rounded to the
    millisecond exactly as datetime() does; an integer is Unix epoch seconds (or milliseconds/microseconds,
    `divisor`, chosen by the column's magnitude). Text with digits below the microsecond is refused rather
    than truncated: the column then stays text.
    """
    if isinstance(value, str):
        fraction = FRACTION.search(value)
        if fraction and fraction.group(1)[6:].strip("0"):
            raise Reject(f"{value[:40]!r} has digits below the microsecond (timestamptz would truncate them)")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Reject(f"{value[:40]!r} is not a date/time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return EPOCH + timedelta(microseconds=value * (1_000_000 // divisor))
        except OverflowError:
            raise Reject(f"epoch value {value} out of range") from None
    if isinstance(value, float):
        try:
            return EPOCH + timedelta(milliseconds=int(value * 86_400_000.0 + 0.5) - JULIAN_UNIX_MS)
        except (OverflowError, ValueError):
            raise Reject(f"Julian day {value!r} out of range") from None
    raise Reject(f"{value!r} is not a date/time")


def to_date(value: Any) -> date:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Reject(f"{value!r} is not a date")


def to_numeric(value: Any) -> Any:
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest repr round-trips to the very same double
    raise Reject(f"{value!r} is not a number")


def to_text(value: Any) -> str:
    if isinstance(value, bytes):  # read as a blob: invalid UTF-8 or a blob in a text column
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Reject(f"invalid UTF-8 at byte {exc.start}: {value[:24].hex()}") from None
    elif isinstance(value, float):
        return repr(value)
    elif isinstance(value, int):
        return str(value)
    if not isinstance(value, str):  # SQLite's storage classes are all handled above: this is a caller's bug
        raise Reject(f"{type(value).__name__} value where text was expected")
    if "\x00" in value:
        raise Reject("text contains U+0000, which PostgreSQL text cannot store")
    return value


def to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise Reject(f"{type(value).__name__} value {value!r} in a BLOB column")


def json_problem(text: Any) -> str:
    """Empty when `text` is JSON that jsonb keeps exactly (valid, no duplicate keys, no U+0000)."""
    if not isinstance(text, str):
        return f"{type(text).__name__} value {text!r}"

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key (jsonb keeps only the last one)")
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=no_dupes)
    except ValueError as exc:
        return f"{text[:40]!r}: {str(exc).split(':')[0]}"
    if "\\u0000" in text:
        return "contains \\u0000, which jsonb rejects"
    return ""


# --- decisions --------------------------------------------------------------------------------------------


@dataclass
class Decision:
    pg_type: str
    kind: str
    convert: Any
    why: str
    read_as_blob: bool = False


def decide(declared: str, p: Profile) -> Decision:
    d = declared.upper()
    aff = affinity(declared)
    numbers = p.n_int + p.n_real
    present = {k for k, n in (("int", p.n_int), ("real", p.n_real), ("text", p.n_text), ("blob", p.n_blob)) if n}
    text_conv = to_text
    as_blob = bool(p.bad_utf8)

    if "BOOL" in d or d in ("BIT", "TINYINT(1)"):
        if p.bool_ok:
            return Decision("boolean", "bool", to_bool, f"declared {declared}; every value is 0/1 or true/false")
        note = f"declared {declared} but holds non-boolean values (e.g. {p.examples[:1]})"
    elif "JSON" in d:
        if p.json_ok:
            return Decision("jsonb", "json", None, f"declared {declared}; every value is valid JSON")
        note = f"declared {declared} but not jsonb: {p.json_problem}"
    elif d.startswith("DATE") and "TIME" not in d:
        if p.date_ok:
            return Decision("date", "date", to_date, f"declared {declared}; every value is YYYY-MM-DD")
        note = f"declared {declared} but kept as text: {p.ts_problem}"
    elif "TIMESTAMP" in d or "DATETIME" in d:
        if p.ts_ok:
            unit = {1: "seconds", 1000: "milliseconds", 1_000_000: "microseconds"}[p.epoch_divisor]
            epoch = (
                f"; integers read as Unix epoch {unit}, REALs as Julian days (as SQLite's datetime())"
                if numbers
                else ""
            )
            return Decision(
                "timestamptz",
                "ts",
                partial(parse_ts, divisor=p.epoch_divisor),
                f"declared {declared}; every value parses (naive values are UTC){epoch}",
            )
        note = f"declared {declared} but kept as text: {p.ts_problem}"
    else:
        note = f"declared {declared or '(none)'}, {aff} affinity"

    if not present:
        by_aff = {
            "INTEGER": ("bigint", "int"),
            "REAL": ("double precision", "float"),
            "TEXT": ("text", "text"),
            "BLOB": ("bytea", "bytes"),
            "NUMERIC": ("numeric", "numeric"),
        }[aff]
        if aff == "INTEGER":
            by_aff = (int_type(declared), "int")
        return Decision(by_aff[0], by_aff[1], None, f"{note}; no values")
    if present == {"int"}:
        if aff == "NUMERIC" and any(s in d for s in ("NUMERIC", "DECIMAL", "MONEY")):
            return Decision("numeric", "numeric", None, f"{note}; integers")
        kind = int_type(declared) if aff == "INTEGER" else "bigint"
        while max(abs(p.min_int or 0), abs(p.max_int or 0) + 1) > INT_RANGES[kind] and kind != "bigint":
            kind = WIDER[kind]
        return Decision(kind, "int", None, f"{note}; integers in [{p.min_int}, {p.max_int}]")
    if present <= {"int", "real"}:
        if aff == "REAL" or (present == {"real"} and aff != "NUMERIC" and aff != "INTEGER"):
            return Decision("double precision", "float", None, f"{note}; floating point (never float4)")
        return Decision(
            "numeric",
            "numeric",
            to_numeric,
            f"{note}; {p.n_int} integer and {p.n_real} real values kept exactly as numeric",
        )
    if present == {"blob"}:
        return Decision("bytea", "bytes", None, f"{note}; blobs")
    if "blob" in present and aff == "BLOB" and declared:
        return Decision("bytea", "bytes", to_bytes, f"{note}; {p.n_text} text values stored as their UTF-8 bytes")
    if present == {"text"}:
        why = f"{note}; text"
        if p.bad_utf8 or p.nul_text:
            why += f"; {p.bad_utf8} invalid UTF-8 and {p.nul_text} U+0000 values rejected"
        return Decision("text", "text", text_conv if (as_blob or p.nul_text) else None, why, as_blob)
    widened = ", ".join(f"{n} {k}" for k, n in (("integer", p.n_int), ("real", p.n_real), ("blob", p.n_blob)) if n)
    why = f"{note}; mixed storage classes: widened to text ({widened} values written as text)"
    if p.blob_not_utf8:
        why += f"; {p.blob_not_utf8} blobs are not UTF-8 and are rejected"
    return Decision("text", "text", text_conv, why, as_blob)
