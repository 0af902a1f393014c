"""Fixtures for the backup tests: a filled source database and a fresh restore target on the same engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool

from hyperpage.backup.destinations import LocalDestination
from hyperpage.backup.manifest import TableSummary, table_summaries
from hyperpage.config import get_settings, sync_url
from tests.backup.generator import fill
from tests.pg import PgCluster


@pytest.fixture
def filled_db_url(db_url: str) -> str:
    fill(db_url, rows=150)
    return db_url


@pytest.fixture
def new_db_url(db_engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that does not hold anything yet (a missing SQLite file, an empty PostgreSQL database)."""
    if db_engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'hyperpage.db'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database(prefix="restore")
    yield cluster.url(name)
    cluster.drop_database(name)


@pytest.fixture
def local_dest(tmp_path: Path) -> LocalDestination:
    root = tmp_path / "backups"
    return LocalDestination(f"file://{root}", root)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads settings once per process: clear the cache around each invocation."""
    for name in ("HYPERPAGE_ENV", "HYPERPAGE_BACKUP_VERIFY_DATABASE_URL", "HYPERPAGE_BACKUP_KEEP_COPIES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def summaries(url: str) -> dict[str, TableSummary]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return table_summaries(conn)
    finally:
        engine.dispose()
