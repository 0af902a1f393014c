"""Verification catches every kind of difference, on a PostgreSQL target and on a SQLite target, and names it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hyperpage.migrate import canon, run, verify
from hyperpage.migrate.plan import Endpoint, MigrationError, Plan
from hyperpage.migrate.report import Report
from hyperpage.migrate.run import Options, build_plan, check, migrate
from tests.migrate.sources import build_hyperpage
from tests.pg import PgCluster

ITEMS = """CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, note TEXT, score REAL, at DATETIME, doc JSON,
                             flag BOOLEAN, amount DECIMAL(10,2))"""


def _build(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(ITEMS)
    base = datetime(2024, 1, 2, 3, 4, 5, 123456)
    conn.executemany(
        "INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, "one", None, 0.1, "2024-01-02 03:04:05.123456", '{"b": 1, "a": [1, 2.5]}', 1, 12.5),
            (2, "two", "", 1 / 3, "2024-01-02T03:04:05+02:00", "[]", 0, 7),
            (3, "pipe|in|text", "ü€", 1e300, None, None, None, None),
            *(
                (
                    i,
                    f"row {i}",
                    f"n{i}",
                    i / 7,
                    (base + timedelta(seconds=i)).isoformat(" "),
                    f'{{"k": {i}}}',
                    i % 2,
                    i * 1.25,
                )
                for i in range(4, 60)
            ),
        ],
    )
    conn.commit()
    conn.close()


def _check(source: Endpoint, target: Endpoint, plan: Plan) -> Report:
    return check(source, target, plan, Options(workers=1, progress=False))


@pytest.fixture(scope="module")
def migrated(
    pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Endpoint, Endpoint, Plan]]:
    path = tmp_path_factory.mktemp("verify") / "items.db"
    _build(path)
    name = pg_cluster.create_database(prefix="verify")
    source, target = Endpoint.parse(f"sqlite:///{path}"), Endpoint.parse(pg_cluster.url(name))
    plan = build_plan(source)
    report = migrate(source, target, plan, Options(workers=1, progress=False))
    assert report.verified, report.as_dict()
    yield source, target, plan
    pg_cluster.drop_database(name)


# (tamper, undo, rows without an identical partner in the target, rows only in the target, text of an example)
TAMPERS = {
    "changed value": (
        "UPDATE item SET name = 'Eve' WHERE id = 5",
        "UPDATE item SET name = 'row 5' WHERE id = 5",
        1,
        1,
        "source row 5: name 'row 5' -> 'Eve'",
    ),
    "missing row": (
        "DELETE FROM item WHERE id = 7",
        "INSERT INTO item VALUES (7, 'row 7', 'n7', 1.0, '2024-01-02 03:04:12.123456+00', '{\"k\": 7}', true, 8.75)",
        1,
        0,
        "source row 7: no such row in the target",
    ),
    "extra row": (
        "INSERT INTO item (id, name) VALUES (100, 'intruder')",
        "DELETE FROM item WHERE id = 100",
        0,
        1,
        "target row (id=100, name='intruder'",
    ),
    "float loses digits": (
        "UPDATE item SET score = score::float4 WHERE id = 1",
        "UPDATE item SET score = 0.1 WHERE id = 1",
        1,
        1,
        "score 0.1 -> 0.10000000149011612",
    ),
    "timestamp one microsecond off": (
        "UPDATE item SET at = at + interval '1 microsecond' WHERE id = 2",
        "UPDATE item SET at = at - interval '1 microsecond' WHERE id = 2",
        1,
        1,
        "at 2024-01-02T01:04:05+00:00 -> 2024-01-02T01:04:05.000001+00:00",
    ),
    "NULL became empty": (
        "UPDATE item SET note = '' WHERE id = 1",
        "UPDATE item SET note = NULL WHERE id = 1",
        1,
        1,
        "note NULL -> ''",
    ),
    "empty became NULL": (
        "UPDATE item SET note = NULL WHERE id = 2",
        "UPDATE item SET note = '' WHERE id = 2",
        1,
        1,
        "note '' -> NULL",
    ),
    "values swapped between rows": (
        "UPDATE item SET name = CASE id WHEN 8 THEN 'row 9' ELSE 'row 8' END WHERE id IN (8, 9)",
        "UPDATE item SET name = 'row ' || id WHERE id IN (8, 9)",
        2,
        2,
        "name 'row 8' -> 'row 9'",
    ),
    "JSON value changed": (
        'UPDATE item SET doc = \'{"a": [1, 2.5], "b": 2}\' WHERE id = 1',
        'UPDATE item SET doc = \'{"a": [1, 2.5], "b": 1}\' WHERE id = 1',
        1,
        1,
        'source row 1: doc {"a": [1, 2.5], "b": 1} -> {"a": [1, 2.5], "b": 2}',  # as jsonb prints it
    ),
    "JSON taken as stored changed": (  # {"k": 5} is read without parsing it (canon.jsonb_as_stored)
        "UPDATE item SET doc = '{\"k\": 50}' WHERE id = 5",
        "UPDATE item SET doc = '{\"k\": 5}' WHERE id = 5",
        1,
        1,
        'source row 5: doc {"k": 5} -> {"k": 50}',
    ),
    "decimal changed": (
        "UPDATE item SET amount = 12.51 WHERE id = 1",
        "UPDATE item SET amount = 12.5 WHERE id = 1",
        1,
        1,
        "amount 12.5 -> 12.51",
    ),
    "boolean flipped": (
        "UPDATE item SET flag = NOT flag WHERE id = 4",
        "UPDATE item SET flag = NOT flag WHERE id = 4",
        1,
        1,
        "flag false -> true",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERS))
def test_postgresql_target_tampering_is_caught_and_named(case: str, migrated: tuple[Endpoint, Endpoint, Plan]) -> None:
    source, target, plan = migrated
    tamper, undo, missing, extra, example = TAMPERS[case]
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute(tamper)
        try:
            report = _check(source, target, plan)
        finally:
            conn.execute(undo)
    assert not report.verified
    [bad] = [t for t in report.tables if not t.ok]
    assert (bad.table, bad.missing_rows, bad.extra_rows, bad.counts_exact) == ("item", missing, extra, True)
    assert any(example in line for line in bad.examples), bad.examples
    assert _check(source, target, plan).verified  # the undo restores a match: each case stands alone


def test_many_differences_are_counted_as_a_lower_bound(
    migrated: tuple[Endpoint, Endpoint, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, plan = migrated
    monkeypatch.setattr(verify, "RECHECK_ROWS", 10)  # re-read a few buckets only
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute("UPDATE item SET name = name || 'x'")
        try:
            report = _check(source, target, plan)
        finally:
            conn.execute("UPDATE item SET name = left(name, -1)")
    [bad] = [t for t in report.tables if not t.ok]
    assert not bad.counts_exact
    # every row changed, so each re-read row counts; whole buckets are re-read until the 10 rows per side are spent
    assert max(bad.missing_rows, bad.extra_rows) <= verify.RECHECK_ROWS
    assert bad.missing_rows + bad.extra_rows >= verify.RECHECK_ROWS
    # the changed rows' partners were not re-read with them, but are found by their first field (the key)
    source_examples = [line for line in bad.examples if line.startswith("source row")]
    assert source_examples and all("x'" in line and "name '" in line for line in source_examples), bad.examples
    assert _check(source, target, plan).verified


def test_partners_stop_reading_once_every_first_field_is_found(
    migrated: tuple[Endpoint, Endpoint, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, target, plan = migrated
    [table] = plan.tables
    monkeypatch.setattr(verify, "FETCH", 10)
    first = canon.first_field(next(verify._side_rows("target", target, table, []))[1][0][1])
    read, side_rows = [], verify._side_rows

    def counted(*args: Any) -> Iterator[tuple[int, list[tuple[Any, str]]]]:
        for n, batch in side_rows(*args):
            read.append(n)
            yield n, batch

    monkeypatch.setattr(verify, "_side_rows", counted)
    assert [canon.first_field(text) for text in verify.partners(target, table, [first])] == [first]
    assert read == [10]  # the first batch held it: the other 49 rows were not read
    read.clear()
    assert [canon.first_field(text) for text in verify.partners(target, table, [first, "i1000"])] == [first]
    assert sum(read) == 59  # a first field (id 1000) that is nowhere: the whole table


class _Bars:
    """Stands in for the rich progress bars: records each bar's total and the rows it was advanced by."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: int) -> str:
        self.totals[description], self.done[description] = total, 0
        return description

    def advance(self, task: str, n: int) -> None:
        self.done[task] += n

    def update(self, task: str, completed: int) -> None:  # the bar is filled at the end: not a report of rows
        pass


def test_a_source_side_split_into_rowid_parts_adds_up(
    migrated: tuple[Endpoint, Endpoint, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables over PART_ROWS rows: the source side is read in rowid ranges (in-process here: workers=1)."""
    source, target, plan = migrated
    monkeypatch.setattr(verify, "PART_ROWS", 10)
    [table] = plan.tables
    assert verify.source_parts(source, table) == [(1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 59)]
    bars = _Bars()
    monkeypatch.setattr(run, "progress_bars", lambda: bars)
    report = check(source, target, plan, Options(workers=1, progress=True))
    assert report.verified and (report.tables[0].source_rows, report.tables[0].target_rows) == (59, 59)
    assert bars.totals == bars.done == {"verify item": 2 * 59}  # six source parts and the target add up
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute("UPDATE item SET name = 'Eve' WHERE id = 25")
        try:
            report = _check(source, target, plan)
        finally:
            conn.execute("UPDATE item SET name = 'row 25' WHERE id = 25")
    [bad] = report.tables
    assert (bad.source_rows, bad.target_rows, bad.missing_rows, bad.extra_rows) == (59, 59, 1, 1)
    assert bad.examples == ["source row 25: name 'row 25' -> 'Eve'"]


def test_a_target_column_of_another_type_is_compared_by_value(migrated: tuple[Endpoint, Endpoint, Plan]) -> None:
    """A schema another tool made (0/1 integers for booleans, float4): equal values pass, rounded ones do not."""
    source, target, plan = migrated
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE item ALTER flag TYPE smallint USING flag::int::smallint")
        try:
            assert _check(source, target, plan).verified
            conn.execute("ALTER TABLE item ALTER score TYPE real USING CASE WHEN score < 1e38 THEN score END")
            report = _check(source, target, plan)
        finally:
            conn.execute("ALTER TABLE item ALTER flag TYPE boolean USING flag::int::boolean")
            conn.execute("ALTER TABLE item ALTER score TYPE double precision")
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE item SET score = %s WHERE id = %s",
                    [(0.1, 1), (1 / 3, 2), (1e300, 3), *((i / 7, i) for i in range(4, 60))],
                )
    [bad] = [t for t in report.tables if not t.ok]
    assert bad.missing_rows == bad.extra_rows and bad.missing_rows > 40 and bad.counts_exact
    assert any("score 0.1 -> 0.10000000149011612" in line for line in bad.examples), bad.examples
    assert _check(source, target, plan).verified


def test_a_target_older_than_postgresql_14_is_refused_before_the_copy(
    tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification needs 14: an older target is refused up front, not after a whole (unverifiable) copy."""
    path = tmp_path / "items.db"
    _build(path)
    source, target = Endpoint.parse(f"sqlite:///{path}"), Endpoint.parse(target_url)
    plan = build_plan(source)
    monkeypatch.setattr(verify, "server_version", lambda _: 130004)
    for attempt in (
        lambda: migrate(source, target, plan, Options(workers=1, progress=False)),
        lambda: _check(source, target, plan),
    ):
        with pytest.raises(MigrationError) as caught:
            attempt()
        assert "the target runs PostgreSQL 13 (server_version_num 130004)" in str(caught.value)
        assert "need PostgreSQL 14 or later" in str(caught.value)
    with psycopg.connect(target.dsn) as conn:  # nothing was created, let alone copied
        assert conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        ).fetchone() == (0,)


def test_sqlite_target_tampering_is_caught(tmp_path: Path, target_url: str) -> None:
    """The way back (PostgreSQL -> SQLite) verifies a SQLite target, read as raw SQLite values."""
    start, back = tmp_path / "hyperpage.db", tmp_path / "back.db"
    build_hyperpage(start)
    there, home = Endpoint.parse(target_url), Endpoint.parse(f"sqlite:///{back}")
    assert migrate(
        Endpoint.parse(f"sqlite:///{start}"),
        there,
        build_plan(Endpoint.parse(f"sqlite:///{start}")),
        Options(workers=1, progress=False),
    ).verified
    plan = build_plan(there)
    assert migrate(there, home, plan, Options(workers=1, progress=False)).verified
    for tamper in (
        "UPDATE pull_requests SET updated_at = substr(updated_at, 1, 25) || "
        "(substr(updated_at, 26, 1) + 1) % 10 WHERE id = 3",  # one microsecond (in the last digit)
        "UPDATE pull_requests SET author = '' WHERE author IS NULL AND id = (SELECT min(id) FROM "
        "pull_requests WHERE author IS NULL)",
        # 15 significant digits instead of 17: a double that loses digits
        "UPDATE pipelines SET duration_seconds = CAST(CAST(duration_seconds AS TEXT) AS REAL) WHERE id = 2",
        "DELETE FROM issues WHERE id = 4",
    ):
        conn = sqlite3.connect(back)
        with conn:
            conn.execute(tamper)
        conn.close()
        report = _check(there, home, plan)
        bad = [(t.table, t.missing_rows) for t in report.tables if not t.ok]
        assert len(bad) == 1 and bad[0][1] == 1, (tamper, bad)
        assert migrate(there, home, plan, Options(workers=1, progress=False, replace=True)).verified


VALUES: list[tuple[str, str, Any]] = [
    ("int", "bigint", 2**62),
    ("int", "bigint", -1),
    ("float", "double precision", 0.1),
    ("float", "double precision", -0.0),
    ("float", "double precision", 5e-324),
    ("float", "double precision", 1e300),
    ("float", "double precision", float("inf")),
    ("numeric", "numeric", Decimal("12.50")),
    ("numeric", "numeric", Decimal("-0.000")),
    ("numeric", "numeric", Decimal("1E+3")),
    ("numeric", "numeric", Decimal("0.1234567890123456789012345678901234")),
    ("numeric", "numeric", 7),
    ("bool", "boolean", True),
    ("bool", "boolean", False),
    ("text", "text", "a|b:c ü€"),
    ("text", "text", ""),
    ("bytes", "bytea", b"\x00\xff|"),
    ("ts", "timestamptz", datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    ("ts", "timestamptz", datetime(1900, 2, 28, 23, 59, 59, tzinfo=UTC)),
    ("date", "date", date(2024, 2, 29)),
    # JSON as jsonb prints it: its key order (shorter keys first), numbers as numeric, its escapes and spacing
    ("json", "jsonb", '{"bb": 1, "a": [1.50, 1e2, -0.0, 1E-3], "é": "\\u00e9\\/\\t", "a": 2}'),
    ("json", "jsonb", "[]"),
    ("json", "json", '{"z":{"y":null,"x":true}}'),
]


def test_python_and_postgresql_render_every_kind_alike(pg_cluster: PgCluster) -> None:
    """The two renderers of canon.py agree value by value (the checksums depend on it), NULL included."""
    with psycopg.connect(pg_cluster.url(), options="-c TimeZone=UTC -c DateStyle=ISO") as conn:
        for kind, pg_type, value in VALUES:
            expr = canon.pg_field(kind, "v")
            got = conn.execute(
                f"SELECT {expr}, (SELECT {expr} FROM (SELECT NULL::{pg_type} v) n) FROM (SELECT %s::{pg_type} v) t",
                (value,),
            ).fetchone()
            assert got == (canon.RENDER[kind](value), "N"), (kind, value)
    assert canon.RENDER["float"](2**53 + 1).startswith("?")  # an integer a double cannot hold never matches
    assert canon.RENDER["int"]("12").startswith("?") and canon.RENDER["bool"](2).startswith("?")
    assert canon.split_fields("i1|s3:a|b|N|j[]") == ["i1", "s3:a|b", "N", "j[]"]
    # a JSON field ends where its document ends, a "|" inside included
    assert canon.split_fields('j{"a": "x|y"}|j"|"|j1|N') == ['j{"a": "x|y"}', 'j"|"', "j1", "N"]
    assert [canon.first_field(row) for row in ("s3:a|b|N", "i12|N", "i12")] == ["s3:a|b", "i12", "i12"]


def test_postgresql_prints_zoneless_timestamps_and_wide_rows_as_python_does(pg_cluster: PgCluster) -> None:
    """A timestamp column without zone is printed as it is (one with zone: in UTC), and a row of more fields than
    concat_ws takes (100 arguments) is joined in chunks: the text Python renders on the other side."""
    with psycopg.connect(pg_cluster.url(), options="-c TimeZone=UTC -c DateStyle=ISO") as conn:
        naive = datetime(2024, 1, 2, 3, 4, 5, 120000)
        expr = canon.pg_field("ts", "v", "timestamp without time zone")
        got = conn.execute(f"SELECT {expr} FROM (SELECT %s::timestamp v) t", (naive,)).fetchone()
        assert got == (canon.RENDER["ts"](naive),) == ("z2024-01-02 03:04:05.12",)
        fields = [f"'f{i}'" for i in range(250)]
        assert conn.execute(f"SELECT {canon.pg_row(fields)}").fetchone() == ("|".join(f"f{i}" for i in range(250)),)


@pytest.mark.parametrize("bucketed", [False, True])
def test_a_big_table_summed_in_two_halves_sums_as_one(
    bucketed: bool, migrated: tuple[Endpoint, Endpoint, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's sums of a table split by pages (two server processes) add up to the sums of the whole table:
    every row counted once, in the bucket it falls into."""
    _, target, plan = migrated
    [table] = [t for t in plan.tables if t.target == "item"]
    others = ", ".join(c.target for c in table.columns if c.target != "id")
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        # more rows than one page holds, for a while: copies of the rows under other ids
        conn.execute(
            f"INSERT INTO item (id, {others}) SELECT id + 1000 * g, {others} FROM item, generate_series(1, 40) g"
        )
        try:
            whole = verify.fold_side("target", target, table, bucketed=bucketed)
            monkeypatch.setattr(verify, "SPLIT_ROWS", 0)
            assert len(verify._block_halves(conn, table.target)) == 2
            split = verify.fold_side("target", target, table, bucketed=bucketed)
        finally:
            conn.execute("DELETE FROM item WHERE id >= 1000")
    assert whole.rows == 59 * 41
    assert (split.rows, split.sums, split.counts) == (whole.rows, whole.sums, whole.counts)
