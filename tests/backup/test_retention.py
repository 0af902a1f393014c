"""Pruning keeps what the policy says, removes crash left-overs, and never the last verified backup."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from hyperpage.backup.destinations import LocalDestination
from hyperpage.backup.dump import create_backup
from hyperpage.backup.manifest import Manifest
from hyperpage.backup.retention import list_backups, plan_prune
from hyperpage.backup.verify import verify_backup
from hyperpage.cli import app
from hyperpage.config import get_settings

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _manifest(age_days: float) -> Manifest:
    finished = NOW - timedelta(days=age_days)
    return Manifest(
        id=f"hyperpage-{age_days:05.1f}",
        engine="sqlite",
        file=f"hyperpage-{age_days}.sqlite.gz",
        file_format="sqlite-gzip",
        size=1,
        sha256="0" * 64,
        compression_level=6,
        app_version="0",
        schema_revision="0001",
        started_at=finished.isoformat(),
        finished_at=finished.isoformat(),
    )


BACKUPS = [_manifest(age) for age in (0.1, 1, 2, 6.9, 7.1, 10, 30)]  # newest first


def _ids(items: list[Manifest]) -> list[float]:
    return sorted(float(m.id.split("-")[1]) for m in items)


def test_keep_days_keeps_the_last_week() -> None:
    plan = plan_prune(BACKUPS, set(), now=NOW, keep_days=7, keep_copies=None)
    assert _ids(plan.keep) == [0.1, 1, 2, 6.9]
    assert _ids(plan.delete) == [7.1, 10, 30]


def test_keep_copies_keeps_the_newest_n() -> None:
    plan = plan_prune(BACKUPS, set(), now=NOW, keep_days=None, keep_copies=2)
    assert _ids(plan.keep) == [0.1, 1]


def test_either_rule_keeps_a_backup() -> None:
    old_only = [_manifest(age) for age in (20, 25, 30)]
    plan = plan_prune(old_only, set(), now=NOW, keep_days=7, keep_copies=2)
    assert _ids(plan.keep) == [20, 25]  # nothing is within 7 days, so the copy rule keeps the newest two


def test_no_policy_deletes_nothing() -> None:
    assert plan_prune(BACKUPS, set(), now=NOW, keep_days=None, keep_copies=None).delete == []


def test_the_only_verified_backup_survives_the_policy() -> None:
    verified = {BACKUPS[-1].id}
    plan = plan_prune(BACKUPS, verified, now=NOW, keep_days=7, keep_copies=None)
    assert plan.protected == BACKUPS[-1].id
    assert _ids(plan.delete) == [7.1, 10]
    # Once a younger backup is verified too, the old one is no longer needed.
    plan = plan_prune(BACKUPS, {BACKUPS[-1].id, BACKUPS[2].id}, now=NOW, keep_days=7, keep_copies=None)
    assert plan.protected is None and _ids(plan.delete) == [7.1, 10, 30]


def test_prune_on_a_real_directory(db_url: str, local_dest: LocalDestination, cli_env: None) -> None:
    made = [create_backup(database_url=db_url, destination=local_dest) for _ in range(4)]
    verify_backup(manifest=made[0], destination=local_dest, server_url=db_url)  # the oldest is the verified one
    now = datetime.now(UTC)
    for manifest, age in zip(made, (30, 20, 3, 1), strict=True):  # re-date them: ages in days
        path = local_dest.root / manifest.manifest_name
        doc = json.loads(path.read_text())
        doc["finished_at"] = (now - timedelta(days=age)).isoformat()
        path.write_text(json.dumps(doc))
    crashed = local_dest.root / ".hyperpage-20200101T000000Z-dead00.dump.partial"
    crashed.write_bytes(b"half a dump")
    stale = now.timestamp() - 3 * 86400
    os.utime(crashed, (stale, stale))
    fresh = local_dest.root / "hyperpage-in-flight.dump"  # an upload still running: too young to touch
    fresh.write_bytes(b"uploading")

    env = {"DATABASE_URL": db_url, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url, "HYPERPAGE_BACKUP_KEEP_DAYS": "7"}
    get_settings.cache_clear()
    dry = CliRunner().invoke(app, ["backup", "prune", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would delete" in dry.output and len(list_backups(local_dest)) == 4

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["backup", "prune"], env=env)
    assert result.exit_code == 0, result.output
    assert f"kept {made[0].id}: the only verified backup" in result.output
    assert [m.id for m in list_backups(local_dest)] == [made[3].id, made[2].id, made[0].id]
    left = {p.name for p in Path(local_dest.root).iterdir()}
    assert made[1].file not in left and made[1].manifest_name not in left
    assert made[0].file in left and f"{made[0].id}.verified.json" in left
    assert crashed.name not in left and fresh.name in left
