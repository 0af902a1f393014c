"""Read an in-process app's metrics the way Prometheus does: GET /metrics on the metrics listener's ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from hyperpage.metrics_server import MetricsApp


async def scrape_metrics(app: FastAPI) -> str:
    transport = httpx.ASGITransport(app=MetricsApp(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as http:
        resp = await http.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")  # Prometheus text exposition format
    return resp.text
