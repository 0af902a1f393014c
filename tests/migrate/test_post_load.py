"""Post-load steps (keys, indexes, checks, defaults) run side by side; foreign keys and failures stay ordered."""

from __future__ import annotations

import psycopg
import pytest

from hyperpage.migrate import ledger, run
from hyperpage.migrate.plan import Endpoint, MigrationError


def _held(lock: int) -> str:
    return f"EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = {lock} AND granted)"


def _wait(condition: str) -> str:
    return f"FOR i IN 1..200 LOOP EXIT WHEN {condition}; PERFORM pg_sleep(0.01); END LOOP;"  # bounded: 2 s


# Step A completes only if step B is running at the same time (B holds advisory lock 2 until it sees A's lock 3);
# run one after the other, A fails. No clock is asserted: the loops only bound the waiting.
STEP_A = f"DO $$ BEGIN {_wait(_held(2))} IF NOT {_held(2)} THEN RAISE EXCEPTION 'A ran alone'; END IF; "
STEP_A += f"PERFORM pg_advisory_xact_lock(3); {_wait('NOT ' + _held(2))} END $$"
STEP_B = f"DO $$ BEGIN PERFORM pg_advisory_xact_lock(2); {_wait(_held(3))} END $$"


def _ledger(conn: psycopg.Connection, steps: list[tuple[str, bool]]) -> None:
    ledger.create(conn, "generic", "sqlite:///test.db")
    ledger.record_plan(conn, [], steps, [])


def test_steps_without_foreign_keys_run_on_several_connections(target_url: str) -> None:
    with psycopg.connect(target_url, autocommit=True) as conn:
        _ledger(conn, [(STEP_A, False), (STEP_B, False), ("CREATE TABLE after (a int)", False)])
        run._post_load(conn, Endpoint.parse(target_url), workers=2)
        assert ledger.pending_steps(conn) == []
        assert conn.execute("SELECT to_regclass('after')").fetchone()[0] == "after"
        assert conn.execute("SHOW maintenance_work_mem").fetchone()[0] != run.MAINTENANCE_WORK_MEM  # reset


def test_a_foreign_key_waits_for_the_key_it_references_and_a_failure_stops_the_run(target_url: str) -> None:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE parent (id int); CREATE TABLE child (parent_id int); INSERT INTO parent VALUES (1)")
        conn.execute("INSERT INTO child VALUES (1)")
        _ledger(
            conn,
            [
                ("ALTER TABLE parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id)", False),
                ("CREATE INDEX child_parent ON child (parent_id)", False),
                ("ALTER TABLE child ADD CONSTRAINT child_fk FOREIGN KEY (parent_id) REFERENCES parent (id)", False),
                ("ALTER TABLE child ADD CONSTRAINT bad CHECK (nonsense > 0)", True),  # optional: a warning
                ("ALTER TABLE child ADD CONSTRAINT worse CHECK (parent_id > 5)", False),
            ],
        )
        with pytest.raises(MigrationError, match=r"post-load step failed: .*worse"):
            run._post_load(conn, Endpoint.parse(target_url), workers=2)
        done = dict(conn.execute(f"SELECT sql, status FROM {ledger.SCHEMA}.steps").fetchall())
        assert [status for sql, status in done.items() if "child_fk" in sql] == ["done"]
        assert [status for sql, status in done.items() if "nonsense" in sql] == ["skipped"]
        assert [sql for sql in ledger.pending_steps(conn)] == [s for s in ledger.pending_steps(conn) if "worse" in s[1]]
