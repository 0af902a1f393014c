"""The real app plus one slow route, to watch graceful shutdown with a request in flight."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from hyperpage.main import create_app


def create() -> FastAPI:
    app = create_app()

    @app.get("/test/slow")
    async def slow(seconds: float = 3.0) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    return app


if __name__ == "__main__":
    from hyperpage import server
    from hyperpage.config import get_settings

    settings = get_settings()
    server.run(server.build_config(settings, app="tests.apps.slow_app:create"), settings)
