"""Issue 16's defects, one test each: every one failed before its fix (the commit messages say how)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from hyperpage.migrate import verify
from hyperpage.migrate.plan import Endpoint
from hyperpage.migrate.run import Options, build_plan, migrate
from tests.migrate.sources import build_big_generic, build_hyperpage, hyperpage_cli


def _file(path: Path, ddl: str, rows: list[tuple[object, ...]] | None = None, table: str = "t") -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(ddl)
    if rows:
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.commit()
    conn.close()
    return path


def _migrate(path: Path, url: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "report.json"
    result = hyperpage_cli(
        "db", "migrate", "--from", f"sqlite:///{path}", "--to", url, "--no-progress", "--report", str(report), *extra
    )
    return result, (json.loads(report.read_text()) if report.exists() else {})


def _one(url: str, sql: str) -> tuple[object, ...]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()


# 1 -------------------------------------------------------------------------------------------------------------
def test_null_real_and_null_blob_stay_null_on_the_fast_path(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "n.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL, b BLOB);",
        [(1, None, None), (2, 1.5, b"\x01")],
    )
    result, _ = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _one(target_url, "SELECT r, b FROM t WHERE id = 1") == (None, None)


# 2 -------------------------------------------------------------------------------------------------------------
def test_sub_microsecond_digits_are_kept_in_a_generic_file(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "ef.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME);",
        [(1, "2024-01-02 03:04:05.1234567"), (2, "2024-01-02 03:04:05.123456789"), (3, "2024-01-02")],
    )
    result, report = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _one(target_url, "SELECT at FROM t WHERE id = 2") == ("2024-01-02 03:04:05.123456789",)
    assert any("7 to 9 fractional digits" in w or "fractional digits" in w for w in report["warnings"])


def test_sub_microsecond_digits_in_a_hyperpage_database_fail_verification(tmp_path: Path, target_url: str) -> None:
    src = tmp_path / "hp.db"
    build_hyperpage(src, scale=8)
    conn = sqlite3.connect(src)
    conn.execute("UPDATE pull_requests SET created_at = '2026-11-01 10:00:00.1234567' WHERE id = 1")
    conn.commit()
    conn.close()
    result, report = _migrate(src, target_url, tmp_path)
    assert result.returncode == 1, result.stderr  # truncated to microseconds: never reported as a match
    bad = [t for t in report["tables"] if not t["ok"]]
    assert [t["table"] for t in bad] == ["pull_requests"]


# 3 -------------------------------------------------------------------------------------------------------------
HUGE = [
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e300,
    5e-324,
    2.2250738585072014e-308,
    0.1,
    -0.0,
    float("inf"),
    float("-inf"),
    1.2345678901234567e200,
]


def test_huge_and_tiny_doubles_are_bit_exact(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "d.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL);", [(i, v) for i, v in enumerate(HUGE)]
    )
    result, _ = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url) as conn:
        got = dict(conn.execute("SELECT id, encode(float8send(r), 'hex') FROM t").fetchall())
    stored = sqlite3.connect(src).execute("SELECT id, r FROM t").fetchall()  # -0.0 is stored as integer 0
    assert got == {i: struct.pack(">d", v).hex() for i, v in stored}
    assert got[0] == struct.pack(">d", HUGE[0]).hex()


# 4 -------------------------------------------------------------------------------------------------------------
def test_json_numbers_in_any_notation_verify(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "j.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, doc JSON);",
        [(1, "[1e2]"), (2, '{"a": 1.50, "b": -0.0, "c": 1E-7}'), (3, "[12345678901234567890123, 0.1, 1E400]")],
    )
    result, _ = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr


# 5 -------------------------------------------------------------------------------------------------------------
def test_auto_mode_needs_more_than_an_alembic_version_table(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "other.db",
        "CREATE TABLE alembic_version (version_num TEXT PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('4f2a9c1b7d3e');"
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);",
        [(1, 9.5)],
        table="invoices",
    )
    result, report = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert report["mode"] == "generic"
    assert _one(target_url, "SELECT total FROM invoices") == (9.5,)


# 6 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["not sqlite", "truncated", "corrupt"])
def test_a_broken_source_file_is_one_clear_line(damage: str, tmp_path: Path, target_url: str) -> None:
    path = tmp_path / "broken.db"
    if damage == "not sqlite":
        path.write_text("id,name\n1,ann\n")
    else:
        build_big_generic(path, rows=20_000)
        data = path.read_bytes()
        if damage == "truncated":
            path.write_bytes(data[: len(data) // 3])
        else:
            mid = len(data) // 2
            path.write_bytes(data[:mid] + b"\xde\xad\xbe\xef" * 2048 + data[mid + 8192 :])
    result, _ = _migrate(path, target_url, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert "hyperpage:" in result.stderr and str(path.name) in result.stderr


def test_ddl_postgresql_refuses_is_one_clear_line(
    tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hyperpage.cli import app
    from hyperpage.migrate import cli as migrate_cli

    src = _file(tmp_path / "x.db", "CREATE TABLE t (id INTEGER PRIMARY KEY);", [(1,)])
    real = migrate_cli.build_plan

    def refused(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        plan = real(*args, **kwargs)
        plan.create.append("CREATE TABLE t2 (x nosuchtype)")
        return plan

    monkeypatch.setattr(migrate_cli, "build_plan", refused)
    result = CliRunner().invoke(
        app, ["db", "migrate", "--from", f"sqlite:///{src}", "--to", target_url, "--no-progress"]
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "nosuchtype" in result.output


# 7 -------------------------------------------------------------------------------------------------------------
def test_system_column_names_are_renamed_and_rowid_columns_split(
    tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cols = ["rowid", "xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"]
    src = _file(
        tmp_path / "sys.db",
        f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(cols)});",
        [(i, *(f"v{i}" for _ in cols)) for i in range(1, 301)],
    )
    source, target = Endpoint.parse(f"sqlite:///{src}"), Endpoint.parse(target_url)
    plan = build_plan(source)
    monkeypatch.setattr(verify, "PART_ROWS", 100)  # split the source side as a table over 100k rows would be
    report = migrate(source, target, plan, Options(workers=1, progress=False))
    assert report.verified, report.as_dict()
    with psycopg.connect(target_url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum"
            )
        ]
    assert names[1] == "rowid" and all(n.endswith("_") for n in names[2:7]), names
    assert any("xmin" in w for w in report.warnings)


# 8 -------------------------------------------------------------------------------------------------------------
def test_a_timestamp_default_literal_means_utc(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "def.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, at DATETIME DEFAULT '2024-01-01 00:00:00');",
        [(1, "a", "2024-05-05 05:05:05")],
    )
    with psycopg.connect(target_url, autocommit=True) as conn:
        db = conn.info.dbname
        conn.execute(f"ALTER DATABASE {db} SET timezone TO 'America/New_York'")
    result, _ = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("INSERT INTO t (id, v) VALUES (2, 'b')")
        at = conn.execute("SELECT at FROM t WHERE id = 2").fetchone()[0]
    assert at == datetime(2024, 1, 1, tzinfo=UTC)


# 9 -------------------------------------------------------------------------------------------------------------
def test_rollback_refuses_to_drop_the_users_objects_and_names_them(tmp_path: Path, target_url: str) -> None:
    src = _file(tmp_path / "r.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);", [(1, "a")])
    result, _ = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE VIEW my_view AS SELECT v FROM t")
        conn.execute("CREATE TABLE my_child (t_id bigint REFERENCES t (id))")
    undone = hyperpage_cli("db", "migrate", "--rollback", "--to", target_url)
    assert undone.returncode == 1
    assert "my_view" in undone.stderr and "my_child" in undone.stderr
    assert _one(target_url, "SELECT count(*) FROM my_view") == (1,)


# 10 ------------------------------------------------------------------------------------------------------------
def test_current_date_nocase_and_virtual_tables(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "v.db",
        """
        CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, day DATETIME DEFAULT current_date,
                        made DATE DEFAULT (date('now')));
        CREATE INDEX t_name ON t (name COLLATE NOCASE);
        CREATE VIRTUAL TABLE docs USING fts5(title, body);
        INSERT INTO docs VALUES ('hello', 'full text world');
        CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);
        INSERT INTO boxes VALUES (1, 0.5, 2.5);""",
        [(1, "Ann", "2024-01-01", "2024-01-01")],
    )
    result, report = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("INSERT INTO t (id, name) VALUES (2, 'x')")
        day, made, today = conn.execute(
            "SELECT day, made, (now() AT TIME ZONE 'UTC')::date FROM t WHERE id = 2"
        ).fetchone()
        assert day == datetime(today.year, today.month, today.day, tzinfo=UTC) and made == today
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 't_name'").fetchone()[0]
        assert "lower(" in index
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"docs", "boxes"} <= tables and not any(t.startswith(("docs_", "boxes_")) for t in tables)
        assert conn.execute("SELECT title FROM docs").fetchone() == ("hello",)
    assert any("NOCASE" in w for w in report["warnings"])
    assert any("fts5" in w for w in report["warnings"]) and any("rtree" in w for w in report["warnings"])


# 11 ------------------------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def test_killing_the_parent_stops_the_workers_and_nothing_more_commits(tmp_path: Path, target_url: str) -> None:
    src = tmp_path / "big.db"
    build_big_generic(src, rows=300_000)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from hyperpage.cli import app; app()",
            "db",
            "migrate",
            "--from",
            f"sqlite:///{src}",
            "--to",
            target_url,
            "--no-progress",
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    state: dict[str, str] = {}
    while state.get("big") != "copying":
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
        try:
            with psycopg.connect(target_url) as conn:
                state = dict(conn.execute("SELECT name, status FROM hyperpage_migration.tables").fetchall())
        except psycopg.Error:
            pass
    workers = _children(proc.pid)
    assert workers
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, as an OOM killer would
    proc.wait()
    deadline = time.monotonic() + 20
    while any(
        Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split(")")[1][:3]
        for w in workers
    ):
        assert time.monotonic() < deadline, "workers outlived their parent"
        time.sleep(0.1)
    time.sleep(1)
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT status FROM hyperpage_migration.tables WHERE name = 'big'").fetchone() != ("done",)
        assert conn.execute("SELECT count(*) FROM big").fetchone() == (0,)


# 12 ------------------------------------------------------------------------------------------------------------
def test_numbers_in_datetime_columns_follow_sqlite_and_warn_every_run(tmp_path: Path, target_url: str) -> None:
    src = _file(
        tmp_path / "num.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME);",
        [(1, 2460000.5), (2, 1700000000), (3, "2024-01-01 00:00:00")],
    )
    result, report = _migrate(src, target_url, tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url) as conn:
        got = dict(conn.execute("SELECT id, at FROM t").fetchall())
    assert got[1] == datetime(2023, 2, 25, 0, 0, tzinfo=UTC)  # julianday, as SQLite's datetime() reads a REAL
    assert got[2] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # unix epoch seconds
    assert any("Julian day" in w for w in report["warnings"])


# 13 ------------------------------------------------------------------------------------------------------------
def test_verify_does_not_say_written_to_none(tmp_path: Path, target_url: str) -> None:
    src = _file(tmp_path / "bad.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);", [(1, "ok")])
    conn = sqlite3.connect(src)
    conn.execute("INSERT INTO t VALUES (2, CAST(x'41ff' AS TEXT))")
    conn.commit()
    conn.close()
    result, _ = _migrate(src, target_url, tmp_path, "--allow-rejects")
    assert result.returncode == 0, result.stderr
    again = hyperpage_cli("db", "verify", "--from", f"sqlite:///{src}", "--to", target_url, "--no-progress")
    assert "None" not in again.stderr, again.stderr
    assert (tmp_path / "hyperpage-migration-rejects.jsonl").exists()  # next to the report, not in the cwd
