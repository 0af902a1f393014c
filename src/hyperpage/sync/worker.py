"""`hyperpage worker`: the scheduler plus a small ASGI app for probes and metrics (port 3001 by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperpage import __version__
from hyperpage.api import health
from hyperpage.config import Settings, get_settings
from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.errors import install_error_handlers
from hyperpage.lifecycle import lifecycle
from hyperpage.logging import configure_logging, get_logger
from hyperpage.scrape import WORKER_HOOKS
from hyperpage.scrape import install as install_scrape_hooks
from hyperpage.sync.service import start_background_sync, stop_background_sync

log = get_logger(__name__)


def create_worker_app(settings: Settings | None = None) -> FastAPI:
    """/livez, /readyz (database and schema only, never an upstream), /api/health and /api/metrics."""
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start_background_sync(app)
        lifecycle.mark_started()
        log.info("worker_started", version=__version__, database=settings.db_engine)
        try:
            yield
        finally:
            await stop_background_sync(app, grace=settings.hyperpage_shutdown_grace_seconds / 2)
            await app.state.engine.dispose()
            log.info("worker_stopped")

    app = FastAPI(
        title="Hyperpage worker",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    install_scrape_hooks(app, WORKER_HOOKS)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(health.metrics_router)
    return app
