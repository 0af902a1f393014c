"""The real app plus a route that fails with an unexpected exception, to watch what a 500 looks like."""

from __future__ import annotations

from fastapi import FastAPI

from hyperpage.main import create_app

SECRET_DETAIL = "detail-that-must-stay-in-the-log"


def create() -> FastAPI:
    app = create_app()

    @app.get("/test/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError(SECRET_DETAIL)

    return app


if __name__ == "__main__":
    from hyperpage import server
    from hyperpage.config import get_settings

    settings = get_settings()
    server.run(server.build_config(settings, app="tests.apps.failing_app:create"), settings, metrics=True)
