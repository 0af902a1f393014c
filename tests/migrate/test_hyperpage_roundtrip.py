"""Hyperpage mode: SQLite -> PostgreSQL -> SQLite with identical checksums, and the app runs on each result."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psycopg

from hyperpage.db import schema
from hyperpage.main import create_app
from tests.conftest import make_settings
from tests.migrate.sources import build_hyperpage, hyperpage_cli, sha256
from tests.pg import PgCluster


async def _ready(url: str) -> None:
    app = create_app(make_settings(url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/readyz")
            assert response.status_code == 200, response.text


def _schema(conn: psycopg.Connection) -> list[tuple[str, ...]]:
    return sorted(
        tuple(r)
        for r in conn.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
        UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
        """).fetchall()
    )


def _schema_of_fresh_upgrade(cluster: PgCluster) -> list[tuple[str, ...]]:
    name = cluster.create_database()
    try:
        schema.upgrade(cluster.url(name))
        with psycopg.connect(cluster.url(name)) as conn:
            return _schema(conn)
    finally:
        cluster.drop_database(name)


def _checksums(report: Path) -> dict[str, tuple[int, str]]:
    data = json.loads(report.read_text())
    assert data["verified"] is True and data["mode"] == "hyperpage"
    return {t["table"]: (t["target_rows"], t["target_checksum"]) for t in data["tables"]}


async def test_round_trip_keeps_every_row_and_the_app_runs(
    tmp_path: Path, target_url: str, pg_cluster: PgCluster
) -> None:
    source = tmp_path / "hyperpage.db"
    build_hyperpage(source)
    before = sha256(source)
    forward = hyperpage_cli(
        "db", "migrate", "--from", f"sqlite:///{source}", "--to", target_url, "--report", str(tmp_path / "forward.json")
    )  # with the progress bars
    assert forward.returncode == 0, forward.stderr
    assert "rows/s" in forward.stderr and "copy pull_requests" in forward.stderr
    assert sha256(source) == before

    back = tmp_path / "back.db"
    backward = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        target_url,
        "--to",
        f"sqlite:///{back}",
        "--no-progress",
        "--report",
        str(tmp_path / "back.json"),
    )
    assert backward.returncode == 0, backward.stderr
    there, home = _checksums(tmp_path / "forward.json"), _checksums(tmp_path / "back.json")
    assert there == home and there["pull_requests"][0] == 40

    with psycopg.connect(target_url) as conn:
        # the schema is the one Alembic builds, with every deferred index and key rebuilt
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None
        assert _schema(conn) == _schema_of_fresh_upgrade(pg_cluster)
        new_id = conn.execute(
            "INSERT INTO app_state (key, value, updated_at) VALUES ('x', '{}', now()) RETURNING key"
        ).fetchone()
        assert new_id == ("x",)
        top = conn.execute("SELECT max(id) FROM pull_requests").fetchone()[0]
        nxt = conn.execute("SELECT nextval(pg_get_serial_sequence('pull_requests', 'id'))").fetchone()[0]
        assert nxt > top
    await _ready(target_url)
    await _ready(f"sqlite:///{back}")

    # the way back refuses to overwrite a file, and its rollback removes only the file it wrote
    again = hyperpage_cli("db", "migrate", "--from", target_url, "--to", f"sqlite:///{back}", "--no-progress")
    assert again.returncode == 1 and "exists" in again.stderr
    refused = hyperpage_cli("db", "migrate", "--rollback", "--to", f"sqlite:///{source}")
    assert refused.returncode == 1 and source.exists()
    removed = hyperpage_cli("db", "migrate", "--rollback", "--to", f"sqlite:///{back}")
    assert removed.returncode == 0 and not back.exists()
