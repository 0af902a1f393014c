"""Verification read alongside the copy still catches one changed cell, in a column of every type family.

The source side of verification is read while the copy runs (run._to_postgres), the target side is summed in
PostgreSQL by the same job right after that table's copy (verify._pg_sums). A BEFORE INSERT trigger, attached
by an event trigger to the table the migration creates, changes one cell of one row as the COPY writes it: the
copy itself reports nothing wrong, so only verification can notice, and it must name the row and the column.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from hyperpage.migrate.plan import Endpoint
from hyperpage.migrate.run import Options, build_plan, migrate

ROWS = 300
CHANGED = 7
DDL = """CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER, score REAL, amount DECIMAL(10, 2), flag BOOLEAN,
                            label TEXT, raw BLOB, at DATETIME, day DATE, doc JSON)"""

# column -> (PostgreSQL type the plan gives it, the trigger's change of NEW.column)
CHANGES = {
    "n": ("bigint", "NEW.n + 1"),
    "score": ("double precision", "NEW.score + 1e-9"),
    "amount": ("numeric", "NEW.amount + 0.01"),
    "flag": ("boolean", "NOT NEW.flag"),
    "label": ("text", "NEW.label || 'x'"),
    "raw": ("bytea", "NEW.raw || '\\x00'::bytea"),
    "at": ("timestamp with time zone", "NEW.at + interval '1 microsecond'"),
    "day": ("date", "NEW.day + 1"),
    "doc": ("jsonb", "NEW.doc || '{\"extra\": 1}'::jsonb"),
}


def _build(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(DDL)
    base = datetime(2025, 3, 4, 5, 6, 7, 890123)
    conn.executemany(
        "INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                i * 3,
                i / 7,
                i * 1.25 if i % 2 else i,  # integers and reals: numeric
                i % 2,
                f"label {i}",
                bytes([i % 256, 7]),
                (base + timedelta(seconds=i)).isoformat(" "),
                f"2024-02-{1 + i % 28:02d}",
                f'{{"k": {i}, "tags": ["a", {i / 4}]}}',
            )
            for i in range(1, ROWS + 1)
        ],
    )
    conn.commit()
    conn.close()


def _install_tamper(url: str, column: str, change: str) -> None:
    """Every table the migration creates gets a trigger changing `column` of row CHANGED as it is written."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"""
            CREATE FUNCTION tamper_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id = {CHANGED} THEN NEW.{column} := {change}; END IF;
                RETURN NEW;
            END $$""")
        conn.execute("""
            CREATE FUNCTION tamper_table() RETURNS event_trigger LANGUAGE plpgsql AS $$
            DECLARE obj record;
            BEGIN
                FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
                    IF obj.object_identity = 'public.item' THEN
                        EXECUTE 'CREATE TRIGGER tamper BEFORE INSERT ON public.item '
                                'FOR EACH ROW EXECUTE FUNCTION tamper_row()';
                    END IF;
                END LOOP;
            END $$""")
        conn.execute("CREATE EVENT TRIGGER tamper ON ddl_command_end EXECUTE FUNCTION tamper_table()")


@pytest.fixture
def tamper_free(target_url: str) -> object:
    yield target_url
    with psycopg.connect(target_url, autocommit=True) as conn:  # event triggers are per database, but say so
        conn.execute("DROP EVENT TRIGGER IF EXISTS tamper")


@pytest.mark.parametrize("column", list(CHANGES))
def test_one_changed_cell_is_caught_and_named(column: str, tmp_path: Path, tamper_free: str) -> None:
    target_url = tamper_free
    path = tmp_path / "items.db"
    _build(path)
    source, target = Endpoint.parse(f"sqlite:///{path}"), Endpoint.parse(target_url)
    plan = build_plan(source)
    [table] = plan.tables
    assert {c.target: c.pg_type for c in table.columns}[column] == CHANGES[column][0].replace(
        "timestamp with time zone", "timestamptz"
    )
    _install_tamper(target_url, column, CHANGES[column][1])
    report = migrate(source, target, plan, Options(workers=2, progress=False))
    assert report.copied_rows == ROWS  # the copy saw nothing wrong
    assert not report.verified
    [bad] = report.tables
    assert (bad.source_rows, bad.target_rows, bad.missing_rows, bad.extra_rows) == (ROWS, ROWS, 1, 1)
    [example] = [line for line in bad.examples if line.startswith("source row")]
    assert example.startswith(f"source row {CHANGED}: {column} "), bad.examples
    assert ";" not in example  # only that column differs
