"""Can the SQLite file still be written? A full disk or a read-only directory, named in words.

On a full or read-only disk the sync fails on every write, and it cannot record why in the database it
cannot write; SQLite only says "database or disk is full" or "attempt to write a readonly database". So the
health report and /api/v1/sync look at the directory itself: free space from statvfs (shutil.disk_usage),
and a small file created, written, synced and removed next to the database, whose OSError names the cause
("No space left on device", "Read-only file system", "Permission denied").

PostgreSQL keeps its files on its own server: its disk problems reach us as errors of the queries.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hyperpage.config import Settings

# SQLite in WAL mode grows its -wal file to about 4 MiB (1000 pages) before a checkpoint
# (https://www.sqlite.org/wal.html, "Automatic Checkpoint"), and a sync writes whole pages of rows: below
# this much free space the next writes are about to fail.
MIN_FREE_BYTES = 32 * 1024 * 1024
PROBE_BYTES = 4096


@dataclass(frozen=True)
class StorageCheck:
    status: str  # "ok" | "full" | "unwritable"
    directory: str
    free_bytes: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "directory": self.directory, "free_bytes": self.free_bytes, "error": self.error}


def sqlite_file(settings: Settings) -> Path | None:
    url = settings.sqlalchemy_url
    if (
        url.get_backend_name() != "sqlite"
        or not url.database
        or url.database == ":memory:"
        or url.database.startswith("file:")
    ):
        return None
    return Path(url.database).expanduser().resolve()


def _probe(database: Path) -> StorageCheck:
    directory = database.parent
    try:
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        return StorageCheck("unwritable", str(directory), None, f"cannot read {directory}: {exc.strerror}")
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".hyperpage-write-probe-")
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)
        if database.exists():
            with open(database, "r+b"):  # writable file, not only directory: opened, nothing written
                pass
    except OSError as exc:
        return StorageCheck("unwritable", str(directory), free, f"cannot write to {directory}: {exc.strerror}")
    if free < MIN_FREE_BYTES:
        message = (
            f"the disk is full: {free / 1048576:.1f} MiB free in {directory}, below the "
            f"{MIN_FREE_BYTES // 1048576} MiB SQLite needs to keep writing"
        )
        return StorageCheck("full", str(directory), free, message)
    return StorageCheck("ok", str(directory), free)


async def check_storage(settings: Settings) -> StorageCheck | None:
    """The SQLite directory's state (None on PostgreSQL); file system calls run off the event loop."""
    database = sqlite_file(settings)
    if database is None:
        return None
    return await asyncio.to_thread(_probe, database)
