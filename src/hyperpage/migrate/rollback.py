"""Rollback: remove exactly what a migration created in the target, and nothing else.

On PostgreSQL the ledger lists every object; they are dropped newest first in one transaction with the ledger
itself, so the catalog is back to its state before the migration. A SQLite target (the way back) is a file the
migration created: rollback deletes it, and only if it is the file a completed migration wrote.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from hyperpage.migrate import ledger
from hyperpage.migrate.plan import Endpoint, MigrationError

SQLITE_MARKER = 0x48505347  # PRAGMA application_id of files written by the way back ("HPSG")


def rollback(target: Endpoint) -> list[str]:
    if target.kind == "sqlite":
        return _rollback_sqlite(target)
    with psycopg.connect(target.pg_dsn) as conn:
        if not ledger.exists(conn):
            raise MigrationError("no migration ledger in the target: nothing this tool created to roll back")
        with conn.transaction():
            return ledger.drop_objects(conn)


def _rollback_sqlite(target: Endpoint) -> list[str]:
    import sqlite3

    assert target.path is not None
    path: Path = target.path
    partial = path.with_name(path.name + ".partial")
    removed = []
    if partial.exists():
        partial.unlink()
        removed.append(f"file {partial}")
    if path.exists():
        conn = sqlite3.connect(target.sqlite_uri(), uri=True)
        try:
            marked = conn.execute("PRAGMA application_id").fetchone()[0] == SQLITE_MARKER
        finally:
            conn.close()
        if not marked:
            raise MigrationError(f"{path} was not written by `hyperpage db migrate`: not deleting it")
        path.unlink()
        removed.append(f"file {path}")
    if not removed:
        raise MigrationError(f"nothing to roll back: {path} does not exist")
    return removed
