"""The application factory: settings, logging, database engine, routers, middleware and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperpage import __version__
from hyperpage.api.router import include_routers
from hyperpage.backup.status import backup_scrape_hook
from hyperpage.config import Settings, get_settings
from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.errors import install_error_handlers
from hyperpage.lifecycle import lifecycle
from hyperpage.logging import configure_logging, get_logger
from hyperpage.middleware import ObservabilityMiddleware

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app. Migrations are never run here: they are `hyperpage db upgrade`."""
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lifecycle.mark_started()
        log.info("started", version=__version__, environment=settings.hyperpage_env.value,
                 database=settings.db_engine)
        try:
            yield
        finally:
            await app.state.engine.dispose()
            log.info("stopped")

    app = FastAPI(
        title="Hyperpage",
        version=__version__,
        description="A team's code reviews, CI/CD runs, tickets and upstream API rate limits in one JSON API.",
        debug=settings.hyperpage_debug,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.scrape_hooks = [backup_scrape_hook]
    install_error_handlers(app)
    include_routers(app)
    app.add_middleware(ObservabilityMiddleware)
    return app
