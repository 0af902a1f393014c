"""Test harness: every database test runs on a SQLite file and on a real PostgreSQL 15 cluster.

The cluster is started here from the local server binaries (or HYPERPAGE_TEST_DATABASE_URL is used). If it
cannot start, the run fails saying why: it never quietly falls back to SQLite only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hyperpage.config import Settings, load_settings
from hyperpage.db import schema
from hyperpage.lifecycle import lifecycle
from tests.pg import PgCluster

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    external = os.environ.get("HYPERPAGE_TEST_DATABASE_URL")
    if external:
        yield PgCluster(external_url=external)
        return
    try:
        cluster = PgCluster.start()
    except Exception as exc:  # a failed start must fail the run, in CI and locally alike
        pytest.fail(f"cannot start the test PostgreSQL cluster: {exc}", pytrace=False)
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def pg_admin_url(pg_cluster: PgCluster) -> str:
    """Superuser URL of the throwaway cluster, for tests that create their own databases."""
    return pg_cluster.url()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.create_database(prefix="hyperpage_template")
    schema.upgrade(pg_cluster.url(name))
    yield name
    pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=ENGINES)
def db_engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(db_engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the Alembic head, on each engine in turn."""
    if db_engine_name == "sqlite":
        path = tmp_path / "hyperpage.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database(template=request.getfixturevalue("pg_template"))
    yield cluster.url(name)
    cluster.drop_database(name)


@pytest.fixture
def empty_db_url(db_engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no schema at all, on each engine in turn."""
    if db_engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    yield cluster.url(name)
    cluster.drop_database(name)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test: explicit values win over whatever the environment holds.

    The insights' jobs (SYNC_INSIGHTS) are off unless a test turns them on: the sync tests written for the
    other resources count requests and jobs exactly, and tests/sync/test_github_insights_sync.py covers them."""
    return load_settings(database_url=database_url, log_format="console", **{"sync_insights": False, **overrides})


@pytest.fixture(autouse=True)
def _fresh_lifecycle() -> Iterator[None]:
    lifecycle.started = False
    lifecycle.draining = False
    lifecycle.drain_started_monotonic = None
    yield


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan running."""
    from hyperpage.main import create_app

    app = create_app(make_settings(db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
