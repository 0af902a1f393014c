"""Prometheus metrics on their own port (HYPERPAGE_METRICS_PORT, default 3002) inside the web process.

The public port then has no metrics route at all: nothing to rate-limit, authenticate or leak, and the
NetworkPolicy can open this port to the monitoring namespace alone. The listener shares the web app's engine
and scrape hooks (same process, same event loop) and stops when the web server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import Receive, Scope, Send

from hyperpage.api.health import scrape
from hyperpage.config import Settings
from hyperpage.logging import get_logger

log = get_logger(__name__)
METRICS_PATH = "/metrics"


class MetricsApp:
    """GET /metrics and nothing else; every other path is 404."""

    def __init__(self, web_app: FastAPI) -> None:
        self.web_app = web_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan belongs to the web app
        if scope["path"] != METRICS_PATH:
            await _answer(send, 404, b"text/plain; charset=utf-8", b"not found: metrics are at /metrics\n")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"text/plain; charset=utf-8", b"method not allowed\n")
            return
        body = await scrape(self.web_app)
        await _answer(send, 200, CONTENT_TYPE_LATEST.encode(), b"" if scope["method"] == "HEAD" else body)


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the web server it runs beside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MetricsListener:
    def __init__(self, web_app: FastAPI, settings: Settings, sock: socket.socket | None = None) -> None:
        config = uvicorn.Config(
            MetricsApp(web_app),
            host=settings.hyperpage_host,
            port=settings.hyperpage_metrics_port,
            lifespan="off",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_keep_alive=5,
        )
        self.server = _QuietServer(config)
        self.sock = sock
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock] if self.sock else None))
        while not self.server.started and not self.task.done():  # bound, or failed to bind
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()  # re-raise why it could not start
            raise RuntimeError("the metrics listener stopped at start (is HYPERPAGE_METRICS_PORT in use?)")

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
