"""`serve` on SQLite runs the scheduler in-process: data arrives through the real sync path, probes never
depend on the upstream, and shutdown stops the scheduler."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from hyperpage.main import create_app
from hyperpage.reviews.models import PullRequest
from tests.conftest import make_settings
from tests.integration.processes import FakeUpstreamProcess

pytestmark = pytest.mark.parametrize("db_engine_name", ["sqlite"])


async def test_serve_syncs_in_process_and_probes_ignore_the_upstream(db_url: str) -> None:
    fake = FakeUpstreamProcess("--repos", "2", "--big-repo-prs", "0", "--prs-per-repo", "4")
    try:
        settings = make_settings(
            db_url,
            enable_github=True,
            github_token=DEMO_GITHUB_TOKEN,
            github_api_url=f"{fake.base}/github",
            sync_tick_seconds=0.1,
        )
        assert settings.scheduler_enabled  # the default on SQLite
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                for _ in range(300):
                    async with app.state.sessionmaker() as session:
                        if await session.scalar(select(func.count()).select_from(PullRequest)) == 8:
                            break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("pull requests did not arrive through the in-process sync")
                fake.stop()  # the upstream goes away: the portal stays ready and healthy
                assert (await http.get("/readyz")).status_code == 200
                assert (await http.get("/api/health")).json()["status"] == "healthy"
            task = app.state.scheduler_task
        assert task.done()  # the lifespan's shutdown stopped the scheduler
    finally:
        if fake.proc.poll() is None:
            fake.stop()
