from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import OVERLAYS
from tests.deploy.system.world import Environment, environment


@pytest.fixture(params=OVERLAYS)
def env(request: pytest.FixtureRequest) -> Environment:
    return environment(request.param)
