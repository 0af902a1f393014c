"""Run the ASGI app under uvicorn with a drain phase: SIGTERM fails readiness first, then stops serving."""

from __future__ import annotations

import importlib.util
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from hyperpage.config import Settings
from hyperpage.db.sqlite_tuning import statistics_off
from hyperpage.lifecycle import lifecycle
from hyperpage.logging import get_logger
from hyperpage.metrics_server import MetricsListener
from hyperpage.serverlimits import Parser, bounded_protocol

log = get_logger(__name__)


class DrainingServer(uvicorn.Server):
    """uvicorn.Server that keeps answering (with /readyz at 503) for the drain period after SIGTERM.

    uvicorn alone closes its listener at once, so a load balancer that has not yet seen the pod leave
    gets connection errors. Here the first SIGTERM/SIGINT starts draining; after `drain_seconds` the
    listener closes and in-flight requests get the rest of the grace period. A second signal exits now.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        drain_seconds: float,
        metrics: Settings | None = None,
        metrics_sock: socket.socket | None = None,
    ) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.metrics_settings = metrics  # set for the web app: it serves /metrics on its own port
        self.metrics_sock = metrics_sock
        self.metrics: MetricsListener | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.metrics_settings is not None and not self.should_exit:
            self.metrics = MetricsListener(_web_app(self.config.loaded_app), self.metrics_settings, self.metrics_sock)
            await self.metrics.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        if self.metrics is not None:  # Prometheus sees the web app until its last request is answered
            await self.metrics.stop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if lifecycle.draining:
            self.should_exit = True
            self.force_exit = True
            return
        lifecycle.begin_drain()
        log.warning("shutdown_requested", signal=signal.Signals(sig).name, drain_seconds=self.drain_seconds)
        if self.drain_seconds <= 0:
            self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if lifecycle.draining and lifecycle.seconds_draining() >= self.drain_seconds:
            self.should_exit = True
        return await super().on_tick(counter)


def _web_app(app: object) -> FastAPI:
    """The FastAPI app under uvicorn's optional wrappers (each keeps the inner app as `.app`)."""
    while not isinstance(app, FastAPI):
        inner = getattr(app, "app", None)
        if inner is None:
            raise TypeError(f"no FastAPI app inside {type(app).__name__}")
        app = inner
    return app


def http_protocol(settings: Settings) -> Parser:
    """The HTTP parser to serve with: HYPERPAGE_HTTP_PROTOCOL, where `auto` is httptools if it is installed.

    (An explicit `httptools` that is not installed is refused when the settings are read.)

    httptools parses in C and writes faster; h11 (pure Python, always installed with uvicorn) is the fallback.
    """
    wanted = settings.hyperpage_http_protocol
    if wanted == "h11":
        return "h11"
    if importlib.util.find_spec("httptools") is not None:
        return "httptools"
    log.warning("http_protocol_fallback", protocol="h11", reason="httptools is not installed")
    return "h11"


def build_config(
    settings: Settings,
    *,
    app: str = "hyperpage.main:create_app",
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
) -> uvicorn.Config:
    grace_after_drain = max(settings.hyperpage_shutdown_grace_seconds - settings.hyperpage_drain_seconds, 1.0)
    return uvicorn.Config(
        app,
        factory=True,
        host=host or settings.hyperpage_host,
        port=port or settings.hyperpage_port,
        workers=workers or settings.hyperpage_workers,
        access_log=False,
        log_config=None,  # our logging setup routes uvicorn's records
        proxy_headers=False,  # trusted proxies are handled by the app's own setting
        server_header=False,
        timeout_graceful_shutdown=int(grace_after_drain),
        # what one client may hold: serverlimits.py says which of these uvicorn enforces itself
        http=bounded_protocol(
            http_protocol(settings),
            header_timeout=settings.hyperpage_http_header_timeout_seconds,
            max_connections=settings.hyperpage_http_max_connections,
            max_header_bytes=settings.hyperpage_http_max_header_bytes,
        ),
        h11_max_incomplete_event_size=settings.hyperpage_http_max_header_bytes,
        timeout_keep_alive=settings.hyperpage_http_keepalive_seconds,
        limit_concurrency=settings.hyperpage_http_max_connections,
    )


def run(config: uvicorn.Config, settings: Settings, *, metrics: bool = False) -> int:
    """Serve until a signal and return the exit code; several workers run under our supervisor.

    `metrics`: also serve /metrics on HYPERPAGE_METRICS_PORT (the web app; the worker has its own port).
    """
    metrics = metrics and settings.hyperpage_metrics_port > 0
    if config.workers > 1:
        from hyperpage.supervisor import Supervisor

        return Supervisor(config, settings, app_ref=str(config.app), metrics=metrics).run()
    statistics_off()  # before the app opens its databases (a no-op where SQLite is in use already)
    DrainingServer(config, drain_seconds=settings.hyperpage_drain_seconds, metrics=settings if metrics else None).run()
    return 0


def _child_main(argv: list[str]) -> None:
    """Entry point of one supervised worker: serve the inherited socket `--fd N`."""
    import argparse

    from hyperpage.config import get_settings
    from hyperpage.logging import configure_logging

    parser = argparse.ArgumentParser(prog="hyperpage.server")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--app", default="hyperpage.main:create_app")
    parser.add_argument("--metrics-fd", type=int, default=None)
    args = parser.parse_args(argv)
    statistics_off()
    settings = get_settings()
    configure_logging(settings)
    config = build_config(settings, app=args.app, workers=1)
    sock = socket.socket(fileno=args.fd)  # the listening socket bound once by the supervisor
    metrics_sock = socket.socket(fileno=args.metrics_fd) if args.metrics_fd is not None else None
    DrainingServer(
        config,
        drain_seconds=settings.hyperpage_drain_seconds,
        metrics=settings if metrics_sock is not None else None,
        metrics_sock=metrics_sock,
    ).run(sockets=[sock])


if __name__ == "__main__":
    import sys

    _child_main(sys.argv[1:])
