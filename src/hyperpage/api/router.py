"""Every router of the app, and the scrape hooks of the feature services, in one place."""

from __future__ import annotations

from fastapi import FastAPI

from hyperpage.api import health
from hyperpage.reviews import service as reviews_service
from hyperpage.reviews import views as reviews_views


def include_routers(app: FastAPI) -> None:
    app.include_router(health.router)
    app.include_router(reviews_views.router)
    app.state.scrape_hooks.append(reviews_service.scrape_gauges)
