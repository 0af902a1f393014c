"""A generator of adversarial SQLite files, and a cell-by-cell comparison that shares nothing with the migration.

The comparison imports nothing from hyperpage.migrate: it reads SQLite with the standard library, PostgreSQL
with psycopg, and states on its own what each stored value must become in each PostgreSQL type (see `expected`).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

DECLARED = [
    "INTEGER",
    "INT",
    "TINYINT",
    "BIGINT UNSIGNED",
    "REAL",
    "DOUBLE",
    "FLOAT",
    "NUMERIC",
    "DECIMAL(10,2)",
    "BOOLEAN",
    "TEXT",
    "VARCHAR(10)",
    "CLOB",
    "BLOB",
    "",
    "DATETIME",
    "TIMESTAMP",
    "DATE",
    "JSON",
]
FLOATS = [
    0.1,
    1 / 3,
    -0.0,
    1e308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    2.2250738585072014e-308,
    1.2345678901234567e200,
    float("inf"),
    float("-inf"),
    123456789.125,
    -2.5,
]
INTS = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 1700000000]
TEXTS = [
    "",
    "plain",
    "pipe|tab\tnew\nline\r\\back",
    "ü€😀",
    "2024-01-02 03:04:05.1234567",
    "2024-01-02T03:04:05.123456789+02:00",
    "1e2",
    "[1e2, 1E400, -0.0]",
    "true",
    "NULL",
    "\\N",
    "'quoted'",
]
BLOBS = [b"", b"\x00\xff\xfe", "valid ü".encode(), b"\\x00"]
SYSTEM = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"}
_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?(Z|[+-]\d\d:\d\d)?")


def _col(i: int, declared: str) -> str:
    return f'"c{i}_{re.sub(r"[^a-z0-9]+", "_", declared.lower()) or "none"}" {declared}'


def build(path: Path, rows: int = 0, seed: int = 16) -> None:
    """Fixed traps, plus `rows` random rows of typed columns (NULLs everywhere, extremes, 7-9 fraction digits)."""
    rnd = random.Random(seed)
    conn = sqlite3.connect(path)
    cols = ", ".join(_col(i, d) for i, d in enumerate(DECLARED))
    conn.executescript(f"""
        CREATE TABLE matrix (id INTEGER PRIMARY KEY, {cols});
        CREATE TABLE typed (id INTEGER PRIMARY KEY, i BIGINT, r REAL, n NUMERIC, b BOOLEAN, t TEXT, x BLOB,
                            at DATETIME, fine DATETIME, d DATE, j JSON);
        CREATE TABLE names (id INTEGER PRIMARY KEY, "rowid" TEXT, "select" TEXT, "Order" TEXT, "user" TEXT,
                            xmin TEXT, xmax TEXT, cmin TEXT, cmax TEXT, ctid TEXT, tableoid TEXT, oid TEXT);
        CREATE TABLE huge (id INTEGER PRIMARY KEY, t TEXT, b BLOB);
        CREATE VIRTUAL TABLE docs USING fts5(title, body);
        CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);""")
    values: list[Any] = [None, *INTS, *FLOATS, *TEXTS, *BLOBS]
    matrix = [(k, *(values[(k + i) % len(values)] for i in range(len(DECLARED)))) for k in range(1, len(values) + 1)]
    conn.executemany(f"INSERT INTO matrix VALUES ({', '.join('?' * (len(DECLARED) + 1))})", matrix)
    # text that PostgreSQL cannot hold: the copy must reject these rows, and say so
    conn.execute("INSERT INTO matrix (id, c10_text) VALUES (1000, CAST(x'41ff42' AS TEXT))")
    conn.execute("INSERT INTO matrix (id, c10_text) VALUES (1001, 'nul' || char(0) || 'byte')")
    conn.executemany("INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _typed(rnd, max(rows, 200)))
    conn.executemany(
        "INSERT INTO names VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(k, *(f"{k}-{j}" if (k + j) % 5 else None for j in range(11))) for k in range(1, 51)],
    )
    conn.executemany(
        "INSERT INTO huge VALUES (?, ?, ?)", [(k, "ä" * (2_000_000 * k), rnd.randbytes(3_000_000)) for k in (1, 2)]
    )
    conn.executemany("INSERT INTO docs VALUES (?, ?)", [("hello", "full text"), ("ü€", None), (None, "x\ty")])
    conn.executemany("INSERT INTO boxes VALUES (?, ?, ?)", [(1, 0.5, 2.5), (2, -1.0, 1e6)])
    conn.commit()
    conn.close()


def _typed(rnd: random.Random, n: int) -> list[tuple[Any, ...]]:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for k in range(1, n + 1):
        at = base + timedelta(seconds=rnd.randrange(10**9), microseconds=rnd.randrange(10**6))
        fine = at.strftime("%Y-%m-%d %H:%M:%S.%f") + str(rnd.randrange(1, 1000))  # 7 to 9 fraction digits
        row = (
            k,
            rnd.choice(INTS),
            rnd.choice(FLOATS) if k % 3 else rnd.random() * 10 ** rnd.randrange(-300, 300),
            rnd.choice([1, 2.5, -7, 0.1, 10**18]),
            rnd.choice([0, 1, "true", "f"]),
            rnd.choice(TEXTS[:4]) + str(k),
            rnd.randbytes(rnd.randrange(0, 40)),
            rnd.choice(
                [at.isoformat(" "), at.isoformat(), at.strftime("%Y-%m-%d %H:%M:%S"), 2460000.25, 1700000000 + k]
            ),
            fine,
            (base + timedelta(days=k % 4000)).date().isoformat(),
            json.dumps({"k": k, "f": rnd.random(), "tags": ["a", "ü"], "e": "1e2"}) if k % 4 else "[1e2, 2.50]",
        )
        # NULLs everywhere: each column is NULL in some rows
        out.append(tuple(None if j and (k + j) % 7 == 0 else v for j, v in enumerate(row)))
    return out


# --- the comparison ----------------------------------------------------------------------------------------


def _micros(text: str) -> int | None:
    m = _TS.fullmatch(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    if frac and frac[6:].strip("0"):
        return None
    days = (date(int(y), int(mo), int(d)) - date(1970, 1, 1)).days
    total = ((days * 24 + int(h or 0)) * 60 + int(mi or 0)) * 60 + int(s or 0)
    total = total * 1_000_000 + int((frac or "")[:6].ljust(6, "0"))
    if tz and tz != "Z":
        total -= (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 60 + int(tz[4:6])) * 60_000_000
    return total


def _as_text(v: Any) -> str | None:
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return repr(v) if isinstance(v, float) else str(v)


def expected(pg_type: str, v: Any, julian: str | None, divisor: int) -> Any:
    """What a stored SQLite value must be in a PostgreSQL column of `pg_type`, as psycopg returns it."""
    if pg_type in ("smallint", "integer", "bigint"):
        return v if isinstance(v, int) else _Wrong(v)
    if pg_type == "double precision":
        return struct.pack(">d", float(v)) if isinstance(v, float) or float(v) == v else _Wrong(v)
    if pg_type == "numeric":
        return Decimal(v) if isinstance(v, int) else Decimal(repr(v))
    if pg_type == "boolean":
        return {"0": False, "1": True, "t": True, "f": False, "true": True, "false": False}[str(v).lower()]
    if pg_type == "text":
        return _as_text(v)
    if pg_type == "bytea":
        return v if isinstance(v, bytes) else str(v).encode()
    if pg_type == "date":
        return date.fromisoformat(v)
    if pg_type == "jsonb":
        return json.loads(v, parse_float=Decimal, parse_int=Decimal)
    if pg_type == "timestamp with time zone":
        if isinstance(v, float):
            v = julian
        if isinstance(v, int):
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=v * (1_000_000 // divisor))
        micros = _micros(str(v))
        return _Wrong(v) if micros is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return _Wrong(v)


@dataclass(frozen=True)
class _Wrong:
    """A value with no lossless form in the column: equal to nothing."""

    value: Any


def _got(pg_type: str, v: Any) -> Any:
    if pg_type == "double precision":
        return struct.pack(">d", v)
    if pg_type == "jsonb":
        return (
            json.loads(json.dumps(v), parse_float=Decimal, parse_int=Decimal)
            if not isinstance(v, str)
            else json.loads(v, parse_float=Decimal, parse_int=Decimal)
        )
    if pg_type == "bytea":
        return bytes(v)
    return v


@dataclass
class Comparison:
    cells: int = 0
    rows: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


def compare(source: Path, url: str, rejects: Path | None) -> Comparison:
    """Every cell of every source table against the target; rejected rows (from the rejects file) must be absent."""
    out = Comparison()
    gone: dict[str, set[str]] = {}
    if rejects is not None and rejects.exists():
        for line in rejects.read_text().splitlines():
            r = json.loads(line)
            gone.setdefault(r["table"], set()).add(str(r["rowid"]))
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    lite.text_factory = bytes
    shadow = {r[1].decode() for r in lite.execute("PRAGMA table_list") if r[2] == b"shadow"}
    tables = [
        r[0].decode()
        for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    with psycopg.connect(url) as pg:
        pg.execute("SET TimeZone = 'UTC'")
        for table in tables:
            if table in shadow:
                continue
            cols = [r[1].decode() for r in lite.execute(f'PRAGMA table_info("{table}")')]
            targets = [c + "_" if c.lower() in SYSTEM else c for c in cols]
            types = dict(
                pg.execute(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                    "attrelid = %s::regclass AND attnum > 0",
                    (f'"{table}"',),
                ).fetchall()
            )
            sel = ", ".join(
                f'"{c}", typeof("{c}"), CASE WHEN typeof("{c}") = \'real\' THEN '
                f"strftime('%Y-%m-%d %H:%M:%f', \"{c}\") END"
                for c in cols
            )
            src = lite.execute(f'SELECT _rowid_, {sel} FROM "{table}"').fetchall()
            keyed = "id" in cols
            order = "ORDER BY id" if keyed else ""
            got = pg.execute(
                f'SELECT {", ".join(chr(34) + t + chr(34) for t in targets)} FROM "{table}" {order}'
            ).fetchall()
            want = []
            for row in src:
                if str(row[0]) in gone.get(table, set()):
                    out.rejected += 1
                    continue
                cells = []
                for i, t in enumerate(targets):
                    raw, kind, julian = row[1 + 3 * i : 4 + 3 * i]
                    raw = _decode(raw, kind)
                    if raw is None:
                        cells.append(None)
                        continue
                    divisor = _divisor(src, i, types[t])
                    cells.append(expected(types[t], raw, julian and julian.decode(), divisor))
                want.append(tuple(cells))
            have = [
                tuple(None if v is None else _got(types[t], v) for t, v in zip(targets, r, strict=True)) for r in got
            ]
            if not keyed:  # virtual tables lose their rowid: compare as multisets
                want.sort(key=repr)
                have.sort(key=repr)
            if len(want) != len(have):
                out.problems.append(f"{table}: {len(want)} rows expected, {len(have)} in the target")
                continue
            for w, h in zip(want, have, strict=True):
                for t, a, b in zip(targets, w, h, strict=True):
                    out.cells += 1
                    if a != b and len(out.problems) < 20:
                        out.problems.append(f"{table}.{t} ({types[t]}): expected {a!r:.80}, got {b!r:.80}")
            out.rows += len(want)
    lite.close()
    return out


def _decode(raw: Any, kind: bytes) -> Any:
    if kind == b"text":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw  # only in rejected rows
    return raw


_divisors: dict[tuple[int, int], int] = {}


def _divisor(src: list[Any], i: int, pg_type: str) -> int:
    """Integers in a timestamp column: Unix seconds, milliseconds or microseconds by the column's magnitude."""
    if pg_type != "timestamp with time zone":
        return 1
    key = (id(src), i)
    if key not in _divisors:
        ints = [abs(r[1 + 3 * i]) for r in src if r[2 + 3 * i] == b"integer"]
        top = max(ints, default=0)
        _divisors[key] = 1_000_000 if top >= 10**14 else 1000 if top >= 10**11 else 1
    return _divisors[key]
