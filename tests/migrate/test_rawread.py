"""rawread's two renderings of a SQLite row, in SQLite's SQL and in Python, are the same text for every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hyperpage.migrate import rawread
from hyperpage.migrate.plan import Column, Endpoint, Table, quote_ident
from hyperpage.migrate.run import build_plan
from tests.migrate.adversarial import build


def _both(source: Endpoint, table: object) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    key = table.key  # type: ignore[attr-defined]
    fast = sorted((str(k), text) for batch in rawread.rows(source, table, "source", key) for k, text in batch)  # type: ignore[arg-type]
    slow = sorted((str(k), text) for batch in rawread._python_rows(source, table, "source", key) for k, text in batch)  # type: ignore[arg-type]
    return fast, slow


def test_sql_and_python_render_every_adversarial_row_alike(tmp_path: Path) -> None:
    """Every storage class in every declared type, extremes, 7-9 fraction digits, non-UTF-8 text, odd keys."""
    path = tmp_path / "adversarial.db"
    build(path, rows=1500)
    source = Endpoint.parse(f"sqlite:///{path}")
    compared = 0
    for table in build_plan(source).tables:
        fast, slow = _both(source, table)
        assert fast == slow, next((a, b) for a, b in zip(fast, slow, strict=True) if a != b)
        compared += len(fast)
    assert compared > 1500


def test_the_sums_bytes_are_the_rows_text_for_every_adversarial_row(tmp_path: Path) -> None:
    """rawread.row_bytes (the sums' batches, built a column at a time) gives rows()' text as UTF-8, row for row:
    doubles, JSON taken as stored or parsed, NULLs, and batches with a suspect row (rendered by rows()' code)."""
    path = tmp_path / "adversarial.db"
    build(path, rows=1500)
    source = Endpoint.parse(f"sqlite:///{path}")
    compared = 0
    for table in build_plan(source).tables:
        key = table.key
        text = [
            (k, t.encode("utf-8", "surrogatepass")) for b in rawread.rows(source, table, "source", key) for k, t in b
        ]
        raw = [
            row
            for keys, rows in rawread.row_bytes(source, table, "source", key)
            for row in zip(keys, rows, strict=True)
        ]
        assert raw == text, next((a, b) for a, b in zip(raw, text, strict=False) if a != b)
        compared += len(raw)
    assert compared > 1500


def test_integers_next_to_a_text_field_join_its_run_and_a_stray_value_still_reads_right(tmp_path: Path) -> None:
    """The sums' SELECT renders text in SQL and integers with it where they stand next to it (one value per run);
    text in an integer column sends its batch to rows(), as any value SQL leaves to Python."""
    path = tmp_path / "runs.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT, score REAL, m INTEGER, k INTEGER, tag TEXT,"
        " x REAL, last INTEGER)"
    )
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(i, i * 7, f"name {i}", i / 3, -i, None, "t", 0.5, i) for i in range(1, 200)],
    )
    conn.commit()
    source = Endpoint.parse(f"sqlite:///{path}")
    (table,) = build_plan(source).tables
    conn.execute("UPDATE t SET n = 'seven' WHERE id = 150")  # after planning: text the plan did not see (the
    conn.commit()  # fixed plan of a Hyperpage database meets such values the same way)
    conn.close()
    assert [c.kind for c in table.columns] == ["int", "int", "text", "float", "int", "int", "text", "float", "int"]
    exprs, python = rawread._select(table, "source", rawread.SQL_KINDS, rawread.JOINING_KINDS)
    assert [c.kind if c else "run" for c in python] == ["run", "float", "run", "float", "int"]
    assert exprs[0].count("'|'") == 2 and exprs[2].count("'|'") == 2  # id, n, name; m, k, tag
    text = [(k, t.encode()) for b in rawread.rows(source, table, "source", table.key) for k, t in b]
    raw = [
        row
        for keys, rows in rawread.row_bytes(source, table, "source", table.key)
        for row in zip(keys, rows, strict=True)
    ]
    assert raw == text and len(raw) == 199
    assert dict(raw)[150].split(b"|")[1] == b"?7:'seven'"  # rows()' form of a value not of its column's kind


def test_values_sqlite_leaves_to_python_are_rendered_there(tmp_path: Path) -> None:
    """Each of these makes its row's SQL text NULL or suspect, so the row is read again by its key."""
    path = tmp_path / "odd.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, at DATETIME, day DATE, label TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [
            (1, 5, "2024-01-02 03:04:05.123456", "2024-02-29", "plain"),
            (2, "five", "2024-01-02T03:04:05+02:00", "2023-02-29", "tab\there"),
            (3, 2.5, 2460000.25, "2024-13-01", "nul\x00inside"),
            (4, None, "2023-02-29 00:00:00", None, b"\xff\xfe not UTF-8"),
            (5, 7, "2024-01-02 03:04:05.1234567", "2024-01-01", "\x01 control"),
            (6, 1, "2023-02-29 00:00:00", "2024-01-01", "one odd value"),  # no such day: never a match
            (7, 1, "2024-01-01 00:00:00", "2023-04-31", "one odd value"),
            (8, 1, "0000-01-01 00:00:00.5", "0000-01-01", "year 0: no such year in Python or PostgreSQL"),
            (9, 1, "2024-01-02 03:04:05.", "2024-01-02", "a dot without digits"),
            (10, 1, "2024-01-02 03:04:05.123", "2024-01-02", "milliseconds"),
        ],
    )
    conn.execute("UPDATE t SET label = CAST(label AS TEXT) WHERE id = 4")
    conn.commit()
    conn.close()
    source = Endpoint.parse(f"sqlite:///{path}")
    kinds = {"id": "int", "n": "int", "at": "ts", "day": "date", "label": "text"}  # as typed, not as widened
    table = Table("t", "t", [Column(c, c, "", kind, quote_ident(c)) for c, kind in kinds.items()], key="rowid")
    fast, slow = _both(source, table)
    assert fast == slow
    fast = sorted(fast, key=lambda row: int(row[0]))
    assert [k for k, _ in fast] == [str(k) for k in range(1, 11)]
    assert fast[0][1] == "i1|i5|z2024-01-02 03:04:05.123456|a2024-02-29|s5:plain"
    assert [text.split("|")[1][0] for _, text in fast[:7]] == ["i", "?", "?", "N", "i", "i", "i"]  # "five", 2.5: never
    assert fast[5][1].split("|")[2].startswith("?") and fast[6][1].split("|")[3].startswith("?")
    assert [text.split("|")[2][0] + text.split("|")[3][0] for _, text in fast[7:]] == ["??", "?a", "za"]
    assert fast[9][1].split("|")[2] == "z2024-01-02 03:04:05.123"


# Timestamps one at a time: each in a batch of otherwise ordinary ones, so that it decides how the batch is read
TS_EDGES = [
    "2024-02-29 00:00:00",  # a leap day
    "2023-02-29 00:00:00",  # no such day
    "1900-02-29 00:00:00",  # 1900 was no leap year
    "2000-02-29 12:00:00.5",
    "2024-04-31 10:00:00",
    "2024-04-30T10:00:00.120",
    "2024-01-31 23:59:59.000000",
    "2024-01-31 23:59:50",  # ends in 0 with no fraction: nothing to strip
    "2024-01-31 10:20:30.100200",  # zeros inside the fraction stay
    "2024-01-31 10:20:30.0",
    "2024-01-01 24:00:00",
    "2024-01-01 23:60:00",
    "2024-01-01 00:00:60",
    "2024-13-01 00:00:00",
    "0000-01-01 00:00:00",
    "2024-01-01 00:00:00.1234567",
    "2024-01-01 00:00:00.1234560",
    "2024-01-01 00:00:00.",
    "2024-01-01 00:00:00Z",
    " 2024-01-01 00:00:00",
    "2024-01-01t00:00:00",
]


def test_a_timestamp_column_read_at_once_is_each_value_read_alone() -> None:
    """The sums' timestamps, checked and printed a whole column at a time (regular expressions over the batch),
    are what the renderer of one value gives (rows()' Python side): real days only, leap years included."""
    at_once, alone = rawread._ts_column(1), rawread._value_bytes(rawread._ts(1))
    ordinary = [bytearray(b"2024-01-01 00:00:00"), bytearray(b"2024-03-31T01:02:03.000100")]
    for value in TS_EDGES:
        column = (*ordinary, bytearray(value.encode()))
        assert at_once(column) == [alone(v) for v in column], value
    assert at_once(tuple(ordinary)) == [b"z2024-01-01 00:00:00", b"z2024-03-31 01:02:03.0001"]


@pytest.mark.parametrize("divisor", [1, 1000, 1_000_000])
def test_epoch_integers_are_printed_alike_by_sqlite_and_python(divisor: int, tmp_path: Path) -> None:
    """Unix epoch integers in a timestamp column: SQLite's datetime() where it is exact, Python elsewhere, one text."""
    path = tmp_path / "epoch.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME)")
    seconds = [0, 1, -1, 1704164645, -62135596800, 253402300799, -62135596801, 253402300800, 2**40]
    values = {s * divisor for s in seconds} | {s * divisor + divisor // 8 for s in seconds} | {divisor - 1, -5}
    conn.executemany("INSERT INTO t (at) VALUES (?)", [(v,) for v in sorted(values)])
    conn.commit()
    conn.close()
    column = Column("at", "at", "", "ts", quote_ident("at"), epoch_divisor=divisor)
    table = Table("t", "t", [Column("id", "id", "", "int", quote_ident("id")), column], key="rowid")
    fast, slow = _both(Endpoint.parse(f"sqlite:///{path}"), table)
    assert fast == slow
    texts = {text.split("|")[1] for _, text in fast}
    assert "z2024-01-02 03:04:05" in texts and (divisor == 1 or "z2024-01-02 03:04:05.125" in texts)
    assert "z1970-01-01 00:00:00" in texts and "z9999-12-31 23:59:59" in texts
    assert sum(text.startswith("?") for text in texts) >= 2  # before year 1 and after 9999: never a match


def test_columns_with_nulls_read_at_once_are_each_value_read_alone() -> None:
    """A column of a batch with NULLs is still rendered at once (a filler in their place, then "N"), as each value
    alone would be, for every kind the sums render a column at a time."""
    columns: dict[str, tuple[object, ...]] = {
        "int": (1, None, -3),
        "numeric": (None, 7),
        "bool": (1, None, 0),
        "text": (bytearray(b"a|b"), None, bytearray("é€".encode())),
        "bytes": (b"\x00|", None, b""),
        "float": (1.5, None, -0.0),
        "json": (bytearray(b'{"k": 1, "tags": []}'), None, bytearray(b"[]")),
        "ts": (bytearray(b"2024-01-01 00:00:00.50"), None, bytearray(b"2024-02-29T00:00:00")),
    }
    for kind, values in columns.items():
        column = Column("c", "c", "", kind, quote_ident("c"))
        alone = rawread._value_bytes(rawread.renderer(column))
        got = rawread._column_render(column)(values)
        assert got == [alone(v) for v in values], kind
        assert got[values.index(None)] == b"N", kind
