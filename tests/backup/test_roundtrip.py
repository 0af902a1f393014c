"""Create -> verify -> restore on real PostgreSQL and SQLite, through the CLI, with the data compared; the last
successful backup reaching /metrics through app_state (for the "backup older than 26 h" alert)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, pool, select, text
from typer.testing import CliRunner

from hyperpage.backup import pgtools
from hyperpage.backup.destinations import BackupError, LocalDestination
from hyperpage.backup.dump import create_backup
from hyperpage.backup.restore import ordered_toc, restore_backup
from hyperpage.backup.retention import find_backup, list_backups
from hyperpage.backup.verify import verification_of, verify_backup
from hyperpage.cli import app
from hyperpage.config import get_settings, sync_url
from hyperpage.db import schema
from hyperpage.db.models import Base
from hyperpage.main import create_app
from tests.backup.conftest import summaries
from tests.backup.generator import fill
from tests.conftest import make_settings
from tests.metrics_port import scrape_metrics
from tests.pg import PgCluster

runner = CliRunner()


def _cli(*args: str, env: dict[str, str]):
    get_settings.cache_clear()
    return runner.invoke(app, ["backup", *args], env=env)


@pytest.mark.usefixtures("cli_env")
def test_round_trip_through_the_cli(filled_db_url: str, new_db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": filled_db_url, "HYPERPAGE_BACKUP_DESTINATION": f"file://{tmp_path / 'backups'}"}
    source = summaries(filled_db_url)
    assert source["pull_requests"].rows == 150

    created = _cli("create", env=env)
    assert created.exit_code == 0, created.output
    backup_id = created.output.split(":")[0]
    manifest = json.loads((tmp_path / "backups" / f"{backup_id}.manifest.json").read_text())
    assert manifest["schema_revision"] == schema.head_revision()
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == {n: t.rows for n, t in source.items()}
    assert {name: t["checksum"] for name, t in manifest["tables"].items()} == {n: t.checksum for n, t in source.items()}

    verified = _cli("verify", env=env)
    assert verified.exit_code == 0, verified.output
    assert f"{backup_id}: verified" in verified.output

    restored = _cli("restore", "--to", new_db_url, env=env)
    assert restored.exit_code == 0, restored.output
    after = summaries(new_db_url)
    # app_state gained the backup record after the dump was taken; every other table is identical.
    assert after.pop("app_state").rows == source.pop("app_state").rows
    assert {k: v for k, v in after.items()} == source
    assert schema.current_revision(new_db_url) == schema.head_revision()

    listed = _cli("list", env=env)
    assert backup_id in listed.output and "verified" in listed.output


def test_checksums_ignore_row_order_but_see_any_change(filled_db_url: str) -> None:
    before = summaries(filled_db_url)
    issues = Base.metadata.tables["issues"]
    engine = create_engine(sync_url(filled_db_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(issues).order_by(issues.c.id.desc())).mappings()]
        conn.execute(delete(issues))
        conn.execute(insert(issues), rows)  # same rows, physically in the opposite order
    assert summaries(filled_db_url) == before
    with engine.begin() as conn:
        conn.execute(text("UPDATE issues SET title = title || '.' WHERE id = 42"))
    engine.dispose()
    changed = summaries(filled_db_url)
    assert changed["issues"].rows == before["issues"].rows
    assert changed["issues"].checksum != before["issues"].checksum


def test_one_flipped_byte_fails_verify_loudly(filled_db_url: str, local_dest: LocalDestination, cli_env: None) -> None:
    manifest = create_backup(database_url=filled_db_url, destination=local_dest)
    data = local_dest.root / manifest.file
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))

    with pytest.raises(BackupError, match="is corrupt"):
        verify_backup(manifest=manifest, destination=local_dest, server_url=filled_db_url)
    result = _cli("verify", env={"DATABASE_URL": filled_db_url, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url})
    assert result.exit_code == 1
    assert "verification FAILED" in result.output and "sha256" in result.output
    assert verification_of(local_dest, manifest.id) is None


def test_verify_compares_the_restored_data_with_the_manifest(filled_db_url: str, local_dest: LocalDestination) -> None:
    """A manifest that disagrees with the (intact) data is caught by the restore comparison."""
    manifest = create_backup(database_url=filled_db_url, destination=local_dest)
    doc = json.loads(manifest.to_json())
    doc["tables"]["pipelines"]["rows"] += 1
    (local_dest.root / manifest.manifest_name).write_text(json.dumps(doc))
    with pytest.raises(BackupError, match="pipelines: 150 rows, manifest says 151"):
        verify_backup(manifest=find_backup(local_dest, None), destination=local_dest, server_url=filled_db_url)


def test_restore_into_a_non_empty_database_refuses_and_changes_nothing(
    filled_db_url: str, db_url: str, local_dest: LocalDestination, new_db_url: str, cli_env: None
) -> None:
    manifest = create_backup(database_url=filled_db_url, destination=local_dest)
    schema.upgrade(new_db_url)
    engine = create_engine(sync_url(new_db_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_state (key, value, updated_at) "
                "VALUES ('precious', '{\"keep\": true}', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    before = summaries(new_db_url)

    result = _cli(
        "restore",
        "--to",
        new_db_url,
        env={"DATABASE_URL": filled_db_url, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url},
    )
    assert result.exit_code == 1
    assert "not empty" in result.output and "nothing was changed" in result.output
    assert summaries(new_db_url) == before

    restore_backup(manifest=manifest, destination=local_dest, target_url=new_db_url, force=True)
    assert summaries(new_db_url) == manifest.tables


def test_a_failed_backup_leaves_nothing_that_looks_complete(
    db_engine_name: str, tmp_path: Path, local_dest: LocalDestination, cli_env: None
) -> None:
    missing = (
        f"sqlite:///{tmp_path / 'nope.db'}" if db_engine_name == "sqlite" else "postgresql://postgres@127.0.0.1:1/none"
    )
    result = _cli("create", env={"DATABASE_URL": missing, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url})
    assert result.exit_code == 1
    assert "backup failed" in result.output
    assert list_backups(local_dest) == []
    assert not local_dest.root.exists() or not any(local_dest.root.iterdir())


def test_restore_writes_the_schema_revision_last(
    pg_cluster: PgCluster, pg_template: str, local_dest: LocalDestination
) -> None:
    """The TOC handed to pg_restore ends with alembic_version's data: `db check` passes only at the end."""
    name = pg_cluster.create_database(template=pg_template)
    try:
        fill(pg_cluster.url(name), rows=20)
        manifest = create_backup(database_url=pg_cluster.url(name), destination=local_dest)
    finally:
        pg_cluster.drop_database(name)
    listing = pgtools.run(
        [pgtools.tool("pg_restore"), "--list", str(local_dest.root / manifest.file)], pg_cluster.url(), what="list"
    ).stdout
    entries = [line for line in ordered_toc(listing).splitlines() if line and not line.startswith(";")]
    assert "TABLE DATA" in entries[-1] and "alembic_version" in entries[-1]
    assert sum("TABLE DATA" in line for line in entries) == len(manifest.tables)


async def _scrape(db_url: str) -> dict[str, float]:
    web = create_app(make_settings(db_url))
    async with web.router.lifespan_context(web):
        text = await scrape_metrics(web)
    found = re.findall(r"^(hyperpage_backup_\w+) (\S+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


async def test_backup_create_feeds_the_last_success_gauges(
    db_url: str, local_dest: LocalDestination, cli_env: None
) -> None:
    assert await _scrape(db_url) == {
        "hyperpage_backup_last_success_timestamp_seconds": 0.0,
        "hyperpage_backup_last_size_bytes": 0.0,
    }
    get_settings.cache_clear()
    # The CLI runs its own event loop, as it does in the CronJob: give it a thread.
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["backup", "create"],
        env={"DATABASE_URL": db_url, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url},
    )
    assert result.exit_code == 0, result.output
    [manifest] = list_backups(local_dest)
    assert await _scrape(db_url) == {
        "hyperpage_backup_last_success_timestamp_seconds": datetime.fromisoformat(manifest.finished_at).timestamp(),
        "hyperpage_backup_last_size_bytes": float(manifest.size),
    }
