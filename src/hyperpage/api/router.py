"""Every router of the app, in one place."""

from __future__ import annotations

from fastapi import FastAPI

from hyperpage.api import health


def include_routers(app: FastAPI) -> None:
    app.include_router(health.router)
