"""Column profiles from the chunked two-pass scan equal a plain count over every value, in Python.

The scan packs four storage-class counts into one sum per chunk of rowids and checks text per chunk; these tests
hold it to a count that shares none of that: every value read and classified one by one.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hyperpage.migrate import introspect, plan, profile
from hyperpage.migrate.candidates import known_good
from hyperpage.migrate.introspect import open_source
from hyperpage.migrate.plan import Endpoint, Reject, quote_ident
from hyperpage.migrate.typing_rules import Profile, affinity, parse_ts, to_date

DECLARED = {"i": "INTEGER", "t": "TEXT", "r": "REAL", "b": "BLOB", "n": "NUMERIC", "a": ""}


def _values(rnd: random.Random, n: int) -> list[tuple[Any, ...]]:
    """Every storage class in every column, with invalid UTF-8 and U+0000 now and then (a few chunks only)."""
    pick = [
        lambda: None,
        lambda: rnd.randint(-(2**62), 2**62),
        lambda: rnd.randint(-5, 5),
        lambda: rnd.random() * 1e6,
        lambda: f"text {rnd.randint(0, 99)}",
        lambda: rnd.randbytes(4),
    ]
    rows = []
    for i in range(n):
        row = [pick[rnd.randrange(len(pick))]() for _ in DECLARED]
        if i % 9973 == 5:
            row[1] = "nul \x00 inside"
        rows.append(tuple(row))
    return rows


def _regular(rnd: random.Random, n: int) -> list[tuple[Any, ...]]:
    """One storage class per column and NULLs, as most files are; in one middle chunk only, a row of values of
    another class each, where the class each column holds at the table's ends is not the whole story."""
    one = [
        lambda: rnd.randint(-5, 2**40),
        lambda: f"text {rnd.randint(0, 99)}",
        lambda: rnd.random(),
        lambda: rnd.randbytes(3),
        lambda: rnd.randint(0, 9),
        lambda: "any",
    ]
    odd = ("odd", b"\x01", b"\x02", 2.5, "x", 1.5)  # none of them converted by its column's affinity
    return [
        odd if i == profile.CHUNK + 100 else tuple(None if rnd.random() < 0.2 else make() for make in one)
        for i in range(n)
    ]


def _build(path: Path, rows: list[tuple[Any, ...]], rowids: list[int], without_rowid: bool = False) -> None:
    conn = sqlite3.connect(path)
    cols = ", ".join(f"{name} {declared}" for name, declared in DECLARED.items())
    tail = " WITHOUT ROWID" if without_rowid else ""
    conn.execute(f"CREATE TABLE v (k INTEGER PRIMARY KEY, {cols}){tail}")
    conn.executemany(
        f"INSERT INTO v VALUES ({', '.join('?' * (len(DECLARED) + 1))})",
        [(k, *r) for k, r in zip(rowids, rows, strict=True)],
    )
    # text that is not UTF-8: written as a blob, then turned into text in place (SQLite does not check)
    conn.execute("UPDATE v SET t = CAST(x'ff00fe41' AS TEXT) WHERE k IN (SELECT k FROM v ORDER BY k LIMIT 3 OFFSET 7)")
    conn.commit()
    conn.close()


def _expected(path: Path, name: str) -> Profile:
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    values = conn.execute(f"SELECT {quote_ident(name)}, typeof({quote_ident(name)}) FROM v").fetchall()
    conn.close()
    p = Profile()
    ints = [v for v, kind in values if kind == b"integer"]
    p.n_int, p.n_text = len(ints), sum(kind == b"text" for _, kind in values)
    p.n_real, p.n_blob = sum(kind == b"real" for _, kind in values), sum(kind == b"blob" for _, kind in values)
    p.n_null = sum(kind == b"null" for _, kind in values)
    if ints and affinity(DECLARED[name]) not in ("TEXT", "REAL"):
        p.min_int, p.max_int = min(ints), max(ints)
    for v, kind in values:
        if kind == b"text":
            p.nul_text += b"\x00" in v
            p.bad_utf8 += not _decodes(v)
        elif kind == b"blob" and (p.n_text or p.n_int or p.n_real):  # blobs alone become bytea, never decoded
            p.blob_not_utf8 += not _decodes(v)
    return p


def _decodes(v: bytes) -> bool:
    try:
        v.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _profiles(path: Path, rowid: str | None) -> dict[str, Profile]:
    conns = [open_source(Endpoint.parse(f"sqlite:///{path}")) for _ in range(2)]
    try:
        cols = list(DECLARED.items())
        return dict(zip(DECLARED, profile.profile_table(conns, "v", cols, None, rowid), strict=True))
    finally:
        for conn in conns:
            conn.close()


FIELDS = (
    "n_int",
    "n_real",
    "n_text",
    "n_blob",
    "n_null",
    "min_int",
    "max_int",
    "nul_text",
    "bad_utf8",
    "blob_not_utf8",
)


@pytest.mark.parametrize(
    ("layout", "n"),
    [
        ("dense", 3 * profile.CHUNK + 17),  # several chunks, the last one partial
        ("sparse", 2 * profile.CHUNK + 5),  # rowids spread up to 2**62: chunks found by stepping
        ("without rowid", 1000),  # whole-table queries
        ("regular", 3 * profile.CHUNK + 17),  # counts by class from non-NULL counts, but for one chunk
    ],
)
def test_profiles_equal_a_count_of_every_value(tmp_path: Path, layout: str, n: int) -> None:
    rnd = random.Random(layout)
    rows = _regular(rnd, n) if layout == "regular" else _values(rnd, n)
    keys = sorted(rnd.sample(range(1, 2**62), n)) if layout == "sparse" else list(range(1, n + 1))
    path = tmp_path / "v.db"
    _build(path, rows, keys, without_rowid=layout == "without rowid")
    if layout == "sparse":
        with sqlite3.connect(path) as conn:
            lo, hi = conn.execute("SELECT min(rowid), max(rowid) FROM v").fetchone()
        assert hi - lo > 64 * n  # the layout the stepping is for
    found = _profiles(path, None if layout == "without rowid" else "rowid")
    for name in DECLARED:
        want, got = _expected(path, name), found[name]
        assert {f: getattr(got, f) for f in FIELDS} == {f: getattr(want, f) for f in FIELDS}, name
    if layout == "regular":  # the odd values are there, and were counted
        assert all(
            sum(getattr(found[name], f"n_{k}") > 0 for k in ("int", "real", "text", "blob")) == 2 for name in DECLARED
        )
    assert found["t"].bad_utf8 == 3  # the traps are there, and were counted
    assert layout == "regular" or found["t"].nul_text >= 1


TIMESTAMPS = [
    "2024-01-01 00:00:00",
    "2024-02-29 23:59:59",
    "2023-02-29 00:00:00",  # not a leap year
    "2024-02-30 00:00:00",
    "2024-04-31 12:00:00",
    "2024-01-01 24:00:00",
    "2024-01-01 23:60:00",
    "2024-01-01 23:59:60",
    "0000-01-01 00:00:00",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00",
    " 2024-01-01 00:00:00",
    "2024-1-01 00:00:00",
    "2024-01-01 00:00:00.1234567",
    "2024-01-01",
    "2024-13-01",
]


def test_a_timestamp_sqlite_proves_is_one_python_reads() -> None:
    """Soundness of the SQL proofs (the cheap canonical-form one first): proven implies the Python check passes."""
    conn = sqlite3.connect(":memory:")
    for is_date in (False, True):
        sql = known_good("?1", False, False, is_date, not is_date, None).replace("?1", "v")
        for value in TIMESTAMPS:
            proven = conn.execute(f"SELECT CASE WHEN {sql} THEN 1 ELSE 0 END FROM (SELECT ? AS v)", (value,)).fetchone()
            try:
                to_date(value) if is_date else parse_ts(value)
                ok = True
            except (Reject, ValueError):
                ok = False
            assert not proven[0] or ok, (value, is_date)
            if value in ("2024-01-01 00:00:00", "2024-02-29 23:59:59", "9999-12-31 23:59:59") and not is_date:
                assert proven[0], value  # the common form needs no Python


def test_a_table_of_only_its_rowid_alias_is_profiled(tmp_path: Path) -> None:
    """No column besides the INTEGER PRIMARY KEY: nothing for the chunked pass to query, the range from the b-tree."""
    path = tmp_path / "k.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE k (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO k VALUES (?)", [(i,) for i in (-3, 5, 2**40)])
    conns = [open_source(Endpoint.parse(f"sqlite:///{path}")) for _ in range(2)]
    try:
        [p] = profile.profile_table(conns, "k", [("id", "INTEGER")], "id", "rowid")
    finally:
        for conn in conns:
            conn.close()
    assert (p.n_int, p.n_null, p.min_int, p.max_int) == (3, 0, -3, 2**40)


def test_the_rowid_range_is_two_lookups_not_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO r VALUES (?, ?)", [(i, str(i)) for i in (7, 9, 40)])
        for key in ("rowid", '"id"'):
            sql = plan.ends_sql('"r"', key)
            assert conn.execute(sql).fetchone() == (7, 40)
            steps = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert not any(step.startswith("SCAN r") for step in steps), steps  # SEARCH r, twice


# text the date/time forms' GLOB, length() and substr() would read only up to the U+0000, or with a byte that is
# no UTF-8; bound as bytes and cast, so SQLite stores them as text
UNCLEAN = [
    b"2024-01-01T10:00:00\x00junk",
    b"2024-01-01 10:00:00.123\x00",
    b"2024-01-01\x00junk",
    b"2024-01-01 10:00:00\xff",
    b"2024-01-01T10:00:00.12\xff",
]


def test_a_proven_date_or_timestamp_is_ascii_without_nul() -> None:
    """A proven date/time column's text is not read again for U+0000 or bad UTF-8: the proofs must rule them out."""
    conn = sqlite3.connect(":memory:")
    conn.text_factory = bytes
    for is_date in (False, True):
        sql = known_good("?1", False, False, is_date, not is_date, None).replace("?1", "v")
        for value in [v.encode() for v in TIMESTAMPS] + UNCLEAN:
            proven, stored = conn.execute(
                f"SELECT CASE WHEN {sql} THEN 1 ELSE 0 END, typeof(v) FROM (SELECT CAST(? AS TEXT) AS v)", (value,)
            ).fetchone()
            assert stored == b"text"
            assert not proven or (value.isascii() and b"\x00" not in value), (value, is_date)


@pytest.mark.parametrize("rows", [3, 100_000])
def test_an_unclean_value_deep_in_a_proven_looking_column_is_found(tmp_path: Path, rows: int) -> None:
    """Date/time text passing the proofs but for a U+0000, and a boolean column's one integer that is no 0/1, in
    the last row: neither column may keep its candidate type (the text and the integer range are read again)."""
    path = tmp_path / "deep.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, at DATETIME, day DATE, ok BOOLEAN)")
        conn.executemany(
            "INSERT INTO d VALUES (?, ?, ?, ?)",
            [(i, f"2024-01-01T10:00:{i % 60:02}", "2024-02-03", i % 2) for i in range(1, rows)],
        )
        conn.execute(
            "INSERT INTO d VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT), 7)",
            (rows, b"2024-01-01T10:00:00\x00junk", b"2024-02-03\x00junk"),
        )
    plan = introspect.build_generic_plan(Endpoint.parse(f"sqlite:///{path}"))
    columns = {c.source: c for c in plan.tables[0].columns}
    assert columns["at"].pg_type == "text" and "undecodable" in columns["at"].decision
    assert columns["day"].pg_type == "text" and "undecodable" in columns["day"].decision
    assert columns["ok"].pg_type == "bigint" and "integers in [0, 7]" in columns["ok"].decision
