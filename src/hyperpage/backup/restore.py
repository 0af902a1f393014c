"""`backup restore`: put a backup into an empty database, all or nothing.

PostgreSQL: pg_restore runs in a single transaction, so a failure leaves the target as it was, and the TOC
is reordered so the alembic_version row is written last: neither `hyperpage db check` nor /readyz can see the
schema at head before every table is in. SQLite: the restored copy replaces the target through the online
backup API in one step, which other connections observe atomically.
A non-empty target is refused unless force is given; the refusal changes nothing.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, pool, text

from hyperpage.backup import pgtools
from hyperpage.backup.destinations import BackupError, Destination
from hyperpage.backup.manifest import Manifest, file_sha256
from hyperpage.config import sync_url


class TargetNotEmpty(BackupError, status=409, code="restore_target_not_empty"): ...


@dataclass(frozen=True)
class TargetContents:
    tables: int
    rows: int


def target_contents(url: str) -> TargetContents:
    """How many user tables (and rows in them) the target holds; (0, 0) for a missing SQLite file."""
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or not Path(path).exists() or Path(path).stat().st_size == 0:
            return TargetContents(0, 0)
        names_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        quote = '"{}"'
    else:
        names_sql = (
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        quote = "{}"
    engine = create_engine(parsed, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            names = list(conn.execute(text(names_sql)).scalars())
            rows = sum(conn.execute(text(f"SELECT count(*) FROM {quote.format(n)}")).scalar_one() for n in names)
    finally:
        engine.dispose()
    return TargetContents(len(names), rows)


def fetch_verified_data(manifest: Manifest, destination: Destination, tmp: Path) -> Path:
    """Download the data file and check its size and SHA-256 against the manifest."""
    local = tmp / manifest.file
    destination.get(manifest.file, local)
    sha, size = file_sha256(local)
    if size != manifest.size or sha != manifest.sha256:
        raise BackupError(
            f"backup {manifest.id} is corrupt: {manifest.file} has {size} bytes sha256 {sha}, "
            f"the manifest says {manifest.size} bytes sha256 {manifest.sha256}"
        )
    return local


def restore_backup(
    *, manifest: Manifest, destination: Destination, target_url: str, force: bool = False, work_dir: Path | None = None
) -> None:
    target_engine = sync_url(target_url).get_backend_name()
    if target_engine != manifest.engine:
        raise BackupError(
            f"backup {manifest.id} is a {manifest.engine} backup and the target is {target_engine}; "
            "to move data between engines use `hyperpage db migrate`"
        )
    contents = target_contents(target_url)
    if (contents.tables or contents.rows) and not force:
        raise TargetNotEmpty(
            f"the target database is not empty ({contents.tables} tables, {contents.rows} rows); nothing was "
            "changed. Restore into an empty database, or pass --force to replace the objects in the backup"
        )
    with tempfile.TemporaryDirectory(prefix="hyperpage-restore-", dir=work_dir) as tmp:
        data = fetch_verified_data(manifest, destination, Path(tmp))
        if manifest.engine == "sqlite":
            _restore_sqlite(data, target_url, Path(tmp))
        else:
            _restore_postgresql(data, target_url, Path(tmp), clean=bool(contents.tables))


def ordered_toc(toc: str) -> str:
    """The pg_restore list with the alembic_version data moved to the very end."""
    lines = toc.splitlines()
    last = [line for line in lines if " TABLE DATA " in line and " alembic_version " in line]
    if len(last) != 1:
        raise BackupError("the dump has no alembic_version data: not a Hyperpage database dump")
    return "\n".join([line for line in lines if line not in last] + last) + "\n"


def _restore_postgresql(data: Path, target_url: str, tmp: Path, *, clean: bool) -> None:
    listing = pgtools.run([pgtools.tool("pg_restore"), "--list", str(data)], target_url, what="pg_restore --list")
    toc = tmp / "restore.list"
    toc.write_text(ordered_toc(listing.stdout))
    args = [
        pgtools.tool("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--use-list={toc}",
        "--dbname",
        sync_url(target_url).database or "",
    ]
    if clean:
        args[1:1] = ["--clean", "--if-exists"]
    pgtools.run([*args, str(data)], target_url, what="pg_restore")


def _restore_sqlite(data: Path, target_url: str, tmp: Path) -> None:
    copy = tmp / "restored.db"
    with gzip.open(data, "rb") as packed, open(copy, "wb") as raw:
        shutil.copyfileobj(packed, raw, 1024 * 1024)
    with sqlite3.connect(copy) as src:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the SQLite backup fails PRAGMA integrity_check")
    src.close()
    target = sync_url(target_url).database or ""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(copy) as src, sqlite3.connect(target) as dst:
        src.backup(dst)  # a single step: readers see the old database or the whole new one
    src.close()
    dst.close()
