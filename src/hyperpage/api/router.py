"""Every router of the app, in one place (the scrape hooks are in hyperpage/scrape.py)."""

from __future__ import annotations

from fastapi import FastAPI

from hyperpage.api import health
from hyperpage.auth import pages as auth_pages
from hyperpage.auth import views as auth_views
from hyperpage.auth.openapi import document_auth
from hyperpage.compat import views as compat_views
from hyperpage.insights import pages as insights_pages
from hyperpage.insights import views as insights_views
from hyperpage.issues import views as issues_views
from hyperpage.pipelines import views as pipelines_views
from hyperpage.rate_limits import views as rate_limits_views
from hyperpage.reviews import views as reviews_views
from hyperpage.status import views as status_views
from hyperpage.web import views as web_views


def include_routers(app: FastAPI) -> None:
    # Starlette answers `/path/` with a redirect to an absolute URL built from the Host header, which lets a
    # forged Host (or a cache keyed without it) send clients elsewhere: a wrong path is a plain 404 instead.
    app.router.redirect_slashes = False
    app.include_router(health.router)
    for router in (
        reviews_views.router,
        pipelines_views.router,
        issues_views.router,
        rate_limits_views.router,
        insights_views.router,
        status_views.router,
        compat_views.router,
        auth_views.router,
    ):
        app.include_router(router)
    auth_pages.install(app)
    insights_pages.install(app)
    document_auth(app)
    web_views.install(app)
