"""The application factory: settings, logging, database engine, routers, middleware and lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperpage import __version__
from hyperpage.api.listroute import ListFastPath
from hyperpage.api.ratelimit import RateLimitMiddleware
from hyperpage.api.response_cache import ResponseCache, ResponseCacheMiddleware
from hyperpage.api.router import include_routers
from hyperpage.api.security import SecurityHeadersMiddleware
from hyperpage.auth.middleware import AuthGateMiddleware, IdentityMiddleware
from hyperpage.auth.startup import warn_if_anonymous
from hyperpage.config import ConfigError, Settings, get_settings
from hyperpage.db.changes import NoChanges, data_changes
from hyperpage.db.session import create_engine, create_listen_engine, make_sessionmaker
from hyperpage.errors import UnhandledErrorMiddleware, install_error_handlers
from hyperpage.insights.memo import ReportMemo
from hyperpage.insights.teams import load_teams
from hyperpage.lifecycle import lifecycle
from hyperpage.logging import configure_logging, get_logger
from hyperpage.middleware import ObservabilityMiddleware
from hyperpage.scrape import WEB_HOOKS
from hyperpage.scrape import install as install_scrape_hooks
from hyperpage.sync.service import start_background_sync, stop_background_sync

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app. Migrations are never run here: they are `hyperpage db upgrade`."""
    settings = settings or get_settings()
    configure_logging(settings)
    problem = settings.web_auth_problem()
    if problem is not None:
        raise ConfigError(problem)
    warn_if_anonymous(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.data_changes.start()
        scheduler = await start_background_sync(app) if settings.scheduler_enabled else None
        lifecycle.mark_started()
        # The objects start-up made (modules, routes, compiled queries, ~170,000 of them) live as long as the
        # process: out of the collector's sight, a full collection walks only what requests made since. Measured
        # in process under 32 concurrent list reads: full collections paused the loop 90-105 ms each, 3-5 ms frozen
        # (every request in flight waits out a pause: the P95 under load). Not collected first: that costs ~0.1 s
        # per start, and the little garbage frozen with them is freed at stop (unfreeze).
        gc.freeze()
        log.info(
            "started",
            version=__version__,
            environment=settings.hyperpage_env.value,
            database=settings.db_engine,
            scheduler=scheduler is not None,
        )
        try:
            yield
        finally:
            if scheduler is not None:
                await stop_background_sync(app, grace=settings.hyperpage_shutdown_grace_seconds / 2)
            await app.state.data_changes.stop()
            await app.state.engine.dispose()
            gc.unfreeze()  # another app may start in this process (tests): what this one left becomes collectable
            log.info("stopped")

    app = FastAPI(
        title="Hyperpage",
        version=__version__,
        description="A team's code reviews, CI/CD runs, tickets and upstream API rate limits in one JSON API.",
        debug=False,  # Starlette's debug answers a 500 with the traceback; errors.py renders them in every profile
        lifespan=lifespan,
        docs_url=None,  # /docs is served by hyperpage.web from vendored files (no CDN, no inline script)
        redoc_url=None,
        # FastAPI's OpenTelemetry bridge: nothing here configures OpenTelemetry (metrics are Prometheus, logs are
        # structlog), yet the bridge asked the three global OTel providers on every request whether one had been
        # configured since: 11 % of a cached page's CPU (py-spy, in-process harness).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.teams = load_teams(settings)  # a bad HYPERPAGE_TEAMS_FILE stops the start, naming the variable
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    install_scrape_hooks(app, WEB_HOOKS)
    app.state.response_cache = ResponseCache(
        max_bytes=int(settings.hyperpage_api_cache_mb * 1024 * 1024),
        max_age=settings.hyperpage_api_cache_max_age_seconds,
    )
    app.state.insights_memo = ReportMemo(
        max_entries=settings.hyperpage_insights_memo_entries, max_age=settings.hyperpage_api_cache_max_age_seconds
    )
    # no cache, no change signal: a LISTEN connection and its probes would serve nothing
    app.state.data_changes = (
        data_changes(settings.sqlalchemy_url, create_listen_engine(settings), app.state.engine)
        if app.state.response_cache.enabled
        else NoChanges()
    )
    install_error_handlers(app)
    include_routers(app)
    # added last = outermost: metrics see 429s, and every response (429s too) gets the security headers;
    # the identity is known before the rate limiter (it counts per identity), the gate lets callers in after it
    # (bad credentials are throttled too), and the cache is innermost, so cached answers are still
    # authenticated, rate limited, counted and given every header
    app.add_middleware(ListFastPath, handlers=app.exception_handlers)  # innermost: see api/listroute.py
    app.add_middleware(ResponseCacheMiddleware, cache=app.state.response_cache, changes=app.state.data_changes)
    app.add_middleware(AuthGateMiddleware, settings=settings)
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(IdentityMiddleware, settings=settings)
    app.add_middleware(UnhandledErrorMiddleware)  # inside the headers and metrics: a 500 gets both
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(ObservabilityMiddleware)
    return app
