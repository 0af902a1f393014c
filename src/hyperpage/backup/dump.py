"""`backup create`: a consistent logical copy of the database plus its manifest.

PostgreSQL: one REPEATABLE READ transaction exports its snapshot; pg_dump (custom format, compressed) runs
on that snapshot while the same transaction counts and checksums every table, so the manifest describes
exactly the rows in the dump even while the app keeps writing. SQLite: the online backup API copies the
live database page by page into a private file; the checksums are read from that copy, which is then
gzip-compressed.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, pool, text

from hyperpage import __version__
from hyperpage.backup import pgtools
from hyperpage.backup.destinations import BackupError, Destination
from hyperpage.backup.manifest import Manifest, TableSummary, checksum_method, file_sha256, table_summaries
from hyperpage.config import sync_url

# data file, file format, schema revision, table summaries, server version
Dumped = tuple[Path, str, str | None, dict[str, TableSummary], str | None]


def new_backup_id(now: datetime) -> str:
    # Sortable by time; the random tail keeps two backups in the same second apart.
    return f"hyperpage-{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def create_backup(
    *, database_url: str, destination: Destination, compression_level: int = 6, work_dir: Path | None = None
) -> Manifest:
    """Dump the database, upload the data file, then the manifest (whose presence marks completion)."""
    started = datetime.now(UTC)
    backup_id = new_backup_id(started)
    engine = sync_url(database_url).get_backend_name()
    with tempfile.TemporaryDirectory(prefix="hyperpage-backup-", dir=work_dir) as tmp:
        if engine == "sqlite":
            data, file_format, revision, tables, version = _dump_sqlite(
                database_url, Path(tmp), backup_id, compression_level
            )
        else:
            data, file_format, revision, tables, version = _dump_postgresql(
                database_url, Path(tmp), backup_id, compression_level
            )
        sha, size = file_sha256(data)
        manifest = Manifest(
            id=backup_id,
            engine=engine,
            file=data.name,
            file_format=file_format,
            size=size,
            sha256=sha,
            compression_level=compression_level,
            app_version=__version__,
            schema_revision=revision,
            started_at=started.isoformat(),
            finished_at=datetime.now(UTC).isoformat(),
            tables=tables,
            server_version=version,
            checksum_method=checksum_method(engine),
        )
        destination.put(data, data.name)
    destination.put_text(manifest.manifest_name, manifest.to_json())
    return manifest


def _revision(tables: dict[str, TableSummary], conn: Connection) -> str | None:
    if "alembic_version" not in tables:
        return None
    revision: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision


def _dump_postgresql(url: str, tmp: Path, backup_id: str, level: int) -> Dumped:
    data = tmp / f"{backup_id}.dump"
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            dump = subprocess.Popen(
                [
                    pgtools.tool("pg_dump"),
                    "--format=custom",
                    f"--compress={level}",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={data}",
                ],
                env=pgtools.libpq_env(url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                tables = table_summaries(conn)
                revision = _revision(tables, conn)
                version = pgtools.server_version(conn)
            finally:
                # The snapshot must stay open until pg_dump has finished reading it.
                _, err = dump.communicate()
            if dump.returncode != 0:
                raise BackupError(f"pg_dump failed (exit {dump.returncode}): {pgtools.last_lines(err)}")
    finally:
        engine.dispose()
    return data, "pg_dump-custom", revision, tables, version


def _dump_sqlite(url: str, tmp: Path, backup_id: str, level: int) -> Dumped:
    source = sync_url(url).database
    if not source or source == ":memory:" or not Path(source).is_file():
        raise BackupError(f"SQLite database file {source!r} does not exist")
    copy = tmp / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # one step: a consistent copy even while the app writes (WAL readers don't block)
        dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    engine = create_engine(f"sqlite:///{copy}", poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = table_summaries(conn)
            revision = _revision(tables, conn)
            version = conn.execute(text("SELECT sqlite_version()")).scalar()
    finally:
        engine.dispose()
    data = tmp / f"{backup_id}.sqlite.gz"
    with open(copy, "rb") as raw, gzip.open(data, "wb", compresslevel=level) as packed:
        shutil.copyfileobj(raw, packed, 1024 * 1024)
    return data, "sqlite-gzip", revision, tables, version
