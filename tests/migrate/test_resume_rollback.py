"""kill -9 in the middle of the copy, then --resume; --rollback leaves the catalog exactly as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from hyperpage.migrate import ledger
from tests.migrate.sources import build_big_generic, build_hyperpage, build_traps, hyperpage_cli, sha256
from tests.pg import PgCluster


def _checksums(report: Path) -> dict[str, tuple[int, str]]:
    data = json.loads(report.read_text())
    assert data["verified"] is True
    return {t["table"]: (t["target_rows"], t["target_checksum"]) for t in data["tables"]}


def _state(url: str) -> dict[str, str]:
    try:
        with psycopg.connect(url) as conn:
            return ledger.table_states(conn) if ledger.exists(conn) else {}
    except psycopg.errors.UndefinedTable:
        return {}


def _rows_copied(url: str) -> int:
    """Rows the COPY running into URL's database has taken in so far (0 when none is running)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT max(tuples_processed) FROM pg_stat_progress_copy WHERE datname = current_database()"
        ).fetchone()
    return int(row[0] or 0) if row else 0


def test_kill_9_mid_copy_then_resume_matches_an_uninterrupted_run(tmp_path: Path, pg_cluster: PgCluster) -> None:
    source = tmp_path / "big.db"
    build_big_generic(source, rows=300_000)
    before = sha256(source)
    clean, killed = (pg_cluster.url(pg_cluster.create_database(prefix="mig")) for _ in range(2))
    ok = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{source}",
        "--to",
        clean,
        "--no-progress",
        "--workers",
        "1",
        "--report",
        str(tmp_path / "clean.json"),
    )
    assert ok.returncode == 0, ok.stderr

    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from hyperpage.cli import app; app()",
            "db",
            "migrate",
            "--from",
            f"sqlite:///{source}",
            "--to",
            killed,
            "--no-progress",
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    # Killed inside the COPY of 300,000 rows (one worker: the only COPY running) once some have arrived.
    while _state(killed).get("big") != "copying" or not _rows_copied(killed):
        assert proc.poll() is None, "the migration ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    states = _state(killed)
    assert states["a_small"] == "done" and states["big"] == "copying"
    with psycopg.connect(killed) as conn:
        kept = conn.execute(f"SELECT finished_at FROM {ledger.SCHEMA}.tables WHERE name = 'a_small'").fetchone()
        assert conn.execute("SELECT count(*) FROM big").fetchone()[0] == 0  # the interrupted COPY left nothing

    again = hyperpage_cli("db", "migrate", "--from", f"sqlite:///{source}", "--to", killed, "--no-progress")
    assert again.returncode == 1 and "--resume" in again.stderr
    resumed = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{source}",
        "--to",
        killed,
        "--no-progress",
        "--resume",
        "--report",
        str(tmp_path / "resumed.json"),
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _checksums(tmp_path / "resumed.json") == _checksums(tmp_path / "clean.json")
    # this run copied `big` only: the earlier run's `a_small` is not counted again
    assert json.loads((tmp_path / "resumed.json").read_text())["copied_rows"] == 300_000
    with psycopg.connect(killed) as conn:
        assert (
            conn.execute(f"SELECT finished_at FROM {ledger.SCHEMA}.tables WHERE name = 'a_small'").fetchone() == kept
        )  # finished tables are kept, not copied again
    assert sha256(source) == before
    for url in (clean, killed):
        pg_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.mark.parametrize("kind", ["generic", "hyperpage"])
def test_rollback_leaves_the_target_as_it_was(kind: str, tmp_path: Path, target_url: str) -> None:
    source = tmp_path / "source.db"
    (build_traps if kind == "generic" else build_hyperpage)(source)
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA keep_me")  # an unrelated object the rollback must not touch
        before = ledger.catalog_snapshot(conn)
    done = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{source}",
        "--to",
        target_url,
        "--no-progress",
        "--allow-rejects",
        "--rejects",
        str(tmp_path / "r.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(target_url) as conn:
        assert ledger.catalog_snapshot(conn) != before
    replaced = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{source}",
        "--to",
        target_url,
        "--no-progress",
        "--allow-rejects",
        "--replace",
        "--rejects",
        str(tmp_path / "r.jsonl"),
    )
    assert replaced.returncode == 0, replaced.stderr
    undone = hyperpage_cli("db", "migrate", "--rollback", "--to", target_url)
    assert undone.returncode == 0, undone.stderr
    with psycopg.connect(target_url) as conn:
        assert ledger.catalog_snapshot(conn) == before
    nothing = hyperpage_cli("db", "migrate", "--rollback", "--to", target_url)
    assert nothing.returncode == 1 and "no migration ledger" in nothing.stderr
