"""Schema management through Alembic: upgrade, downgrade, current revision, head, and the at-head check."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from hyperpage.config import sync_url
from hyperpage.db.session import ensure_sqlite_dir

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    ensure_sqlite_dir(sync_url(url))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration shipped with this version of Hyperpage (parsed once: the files do not change)."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def upgrade(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | URL) -> str | None:
    ensure_sqlite_dir(sync_url(url))
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def status(url: str | URL) -> SchemaStatus:
    return SchemaStatus(current=current_revision(url), head=head_revision())


async def async_current_revision(conn: AsyncConnection) -> str | None:
    """Current revision through the app's async connection (the readiness probe runs this often)."""
    try:
        rows = (await conn.execute(_VERSION_QUERY)).scalars().all()
    except DBAPIError as exc:
        if _is_missing_table(exc):
            return None
        raise
    if len(rows) > 1:
        raise RuntimeError(f"several Alembic heads in the database: {sorted(rows)}")
    return rows[0] if rows else None


_VERSION_QUERY = text("SELECT version_num FROM alembic_version")


def _is_missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "no such table" in message or "does not exist" in message


def wait_for_database(url: str | URL, timeout: float) -> None:
    """Retry connecting until the database answers or timeout seconds pass (for init Jobs)."""
    deadline = time.monotonic() + timeout
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        while True:
            try:
                with engine.connect():
                    return
            except OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(1.0)
    finally:
        engine.dispose()
