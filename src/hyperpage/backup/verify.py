"""`backup verify`: prove a backup can be restored and holds what its manifest says.

Three steps, each failing loudly: the data file's size and SHA-256 match the manifest; the backup restores
into a scratch database (a temporary PostgreSQL database, or a temporary SQLite file) with the same code
path as `backup restore`; every table's row count and canonical checksum after the restore equal the
manifest's. A pass is recorded in a `<id>.verified.json` sidecar, which retention relies on.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, pool, text

from hyperpage.backup.destinations import VERIFIED_SUFFIX, BackupError, Destination
from hyperpage.backup.manifest import Manifest, compare, table_summaries
from hyperpage.backup.restore import restore_backup
from hyperpage.config import sync_url


@dataclass(frozen=True)
class Verification:
    backup_id: str
    verified_at: str
    tables: int
    rows: int

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "backup_id": self.backup_id,
                    "result": "ok",
                    "verified_at": self.verified_at,
                    "tables": self.tables,
                    "rows": self.rows,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def verification_of(destination: Destination, backup_id: str) -> dict[str, object] | None:
    raw = destination.get_text(f"{backup_id}{VERIFIED_SUFFIX}")
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if data.get("result") == "ok" and data.get("backup_id") == backup_id else None


@contextmanager
def scratch_database(engine: str, server_url: str, work_dir: Path | None) -> Iterator[str]:
    """A new empty database, dropped afterwards; PostgreSQL needs the CREATEDB privilege on server_url."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hyperpage-verify-", dir=work_dir) as tmp:
            yield f"sqlite:///{Path(tmp) / 'scratch.db'}"
        return
    server = sync_url(server_url)
    name = f"hyperpage_verify_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def verify_backup(
    *, manifest: Manifest, destination: Destination, server_url: str, work_dir: Path | None = None
) -> Verification:
    """Checksum, restore into scratch, compare; raise BackupError listing every difference."""
    if sync_url(server_url).get_backend_name() != manifest.engine and manifest.engine == "postgresql":
        raise BackupError(
            "verifying a PostgreSQL backup needs a PostgreSQL server "
            "(HYPERPAGE_BACKUP_VERIFY_DATABASE_URL or DATABASE_URL)"
        )
    with scratch_database(manifest.engine, server_url, work_dir) as scratch:
        restore_backup(manifest=manifest, destination=destination, target_url=scratch, work_dir=work_dir)
        engine = create_engine(sync_url(scratch), poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                actual = table_summaries(conn)
        finally:
            engine.dispose()
    problems = compare(manifest.tables, actual)
    if problems:
        raise BackupError(f"backup {manifest.id} does not match its manifest: " + "; ".join(problems))
    result = Verification(manifest.id, datetime.now(UTC).isoformat(), len(actual), sum(t.rows for t in actual.values()))
    destination.put_text(f"{manifest.id}{VERIFIED_SUFFIX}", result.to_json())
    return result
