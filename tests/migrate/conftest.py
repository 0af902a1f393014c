"""Fixtures for the migration tests: a fresh PostgreSQL database per test on the shared throwaway cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg import PgCluster


@pytest.fixture
def target_url(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.create_database(prefix="mig")
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)
