"""Point-in-time recovery drill: pgBackRest full backup + WAL archive, restore to a time T between writes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.backup.pitr import ArchivedCluster


@pytest.fixture
def archived() -> Iterator[ArchivedCluster]:
    drill = ArchivedCluster.start(archive_timeout_s=2)
    yield drill
    drill.destroy()


def _write(conn: psycopg.Connection, phase: str, n: int) -> None:
    # One commit per row, so recovery has many commit records to stop between.
    for i in range(n):
        conn.execute("INSERT INTO drill (phase, n) VALUES (%s, %s)", (phase, i))


def test_restore_to_a_point_in_time_brings_back_exactly_the_rows_before_it(archived: ArchivedCluster) -> None:
    with archived.connect() as conn:
        conn.execute(
            "CREATE TABLE drill (id bigserial PRIMARY KEY, phase text NOT NULL, n int NOT NULL, "
            "written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        _write(conn, "before-backup", 50)
    info = archived.pgbackrest("backup", "--type=full")
    assert "error" not in info.lower()
    with archived.connect() as conn:
        _write(conn, "after-backup", 50)
        # pgBackRest stores a backup's stop time in whole seconds; T must be past it to choose this backup.
        time.sleep(1.5)
        target = conn.execute("SELECT clock_timestamp()::text").fetchone()[0]  # T, in the server's clock
        time.sleep(0.3)
        _write(conn, "after-target", 50)
    archived.pgbackrest("check")  # switches WAL and waits until the segment with the last commits is archived

    restored = archived.restore_to_time(target)
    with psycopg.connect(restored.url(), autocommit=True) as conn:
        phases = dict(conn.execute("SELECT phase, count(*) FROM drill GROUP BY phase").fetchall())
        latest = conn.execute("SELECT max(written_at)::text FROM drill").fetchone()[0]
        timeline = conn.execute("SELECT timeline_id FROM pg_control_checkpoint()").fetchone()[0]
    assert phases == {"before-backup": 50, "after-backup": 50}
    assert latest < target
    assert timeline == 2  # promoted onto a new timeline: the copy is writable and cannot be mistaken for the old
    with archived.connect() as conn:  # the original is untouched
        assert conn.execute("SELECT count(*) FROM drill").fetchone()[0] == 150
