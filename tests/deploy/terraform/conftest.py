from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.terraform.harness import MotoServer


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server per test module, so applied resources never leak between modules."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()
