"""The fake upstream as one object: world, quotas, faults, stats, and the ASGI app serving them.

Tests use the same object in-process (`upstream.add_fault(...)`, `upstream.mutate(...)`) that the
/_fake control plane drives over HTTP. A re-entrant lock guards the state because the server may run
in a thread (uvicorn) while the test thread mutates the world.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from hyperpage.demo.accounting import QuotaBook, RequestStats
from hyperpage.demo.config import FakeUpstreamConfig
from hyperpage.demo.faults import FaultBook
from hyperpage.demo.generate import build_world


class FakeUpstream:
    def __init__(self, config: FakeUpstreamConfig | None = None, clock: Callable[[], float] | None = None) -> None:
        self.config = config or FakeUpstreamConfig()
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.faults = FaultBook()
        self.stats = RequestStats()
        self._request_ids = itertools.count(1)
        self._build()

    def _build(self) -> None:
        cfg = self.config
        self.world = build_world(cfg)
        self.quota = QuotaBook(
            self.clock,
            {
                ("github", "core"): (cfg.github_core_limit, cfg.github_window_seconds),
                ("github", "search"): (cfg.github_search_limit, cfg.github_search_window_seconds),
                ("github", "graphql"): (cfg.github_graphql_limit, cfg.github_window_seconds),
                ("github", "anonymous"): (60, 3600),
                ("gitlab", "api"): (cfg.gitlab_limit, cfg.gitlab_window_seconds),
            },
        )

    # The Python control API (the /_fake routes call these).
    def reset(self) -> None:
        """Regenerate the world from the seed and forget quotas, faults and counters."""
        with self.lock:
            self._build()
            self.faults.clear()
            self.stats.clear()

    def request_id(self) -> str:
        n = next(self._request_ids)
        return f"FA4E:{n % 0xFFFF:04X}:{n * 7919 % 0xFFFFFF:06X}:{n * 104729 % 0xFFFFFF:06X}:{int(self.clock()):08X}"

    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        with self.lock:
            return self.faults.add(kind, **options).as_dict()

    def clear_faults(self, service: str | None = None) -> int:
        with self.lock:
            return self.faults.clear(service)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**self.stats.snapshot(), "quota": self.quota.snapshot(), "faults": self.faults.snapshot()}

    def count(
        self, service: str | None = None, route: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        with self.lock:
            return self.stats.count(service, route, method, status)

    def quota_of(self, service: str, token: str, resource: str = "core") -> dict[str, int]:
        with self.lock:
            return self.quota.bucket(service, token, resource).as_dict()

    def set_quota(self, service: str, token: str, remaining: int, resource: str = "core") -> dict[str, int]:
        with self.lock:
            return self.quota.set_remaining(service, token, resource, remaining).as_dict()

    def moment(self) -> datetime:
        """Timestamp for a mutation: now, but always after everything already in the world, so an
        incremental sync's high-water mark never hides a change."""
        now = datetime.fromtimestamp(self.clock(), UTC).replace(microsecond=0)
        newest = self.world.latest_update()
        return max(now, newest + timedelta(seconds=1)) if newest else now

    def mutate(self, op: str, **params: Any) -> dict[str, Any]:
        from hyperpage.demo.mutations import apply

        with self.lock:
            return apply(self, op, params)

    def app(self, activity_interval: float | None = None) -> Starlette:
        from hyperpage.demo.control import control_routes, web_routes
        from hyperpage.demo.github_api import GitHubService
        from hyperpage.demo.github_api import routes as github_routes
        from hyperpage.demo.gitlab_api import GitLabService
        from hyperpage.demo.gitlab_api import routes as gitlab_routes
        from hyperpage.demo.jira_api import JiraService
        from hyperpage.demo.jira_api import routes as jira_routes

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            from hyperpage.demo.mutations import run_activity

            async with run_activity(self, activity_interval):
                yield

        app = Starlette(
            routes=[
                Mount("/_fake", routes=control_routes(self)),
                Mount("/github", routes=github_routes(GitHubService(self))),
                Mount("/gitlab/api/v4", routes=gitlab_routes(GitLabService(self))),
                Mount("/jira", routes=jira_routes(JiraService(self))),
                *web_routes(self),
            ],
            lifespan=lifespan,
        )
        app.state.upstream = self
        return app


def create_fake_upstream(
    config: FakeUpstreamConfig | None = None,
    *,
    clock: Callable[[], float] | None = None,
    activity_interval: float | None = None,
) -> Starlette:
    """The ASGI app; the FakeUpstream behind it is `app.state.upstream`."""
    return FakeUpstream(config, clock).app(activity_interval)
