"""Per-client API rate limit (the `limits` library): in memory for one process, in Redis across replicas.

Fixed one-hour windows keep one counter per client (a moving window would store every request's time).
Probes, metrics and static files are exempt: kubelets and Prometheus must never be throttled.
"""

from __future__ import annotations

import math
import time

import orjson
from limits import RateLimitItemPerHour
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperpage.api.clientinfo import client_address
from hyperpage.config import Settings
from hyperpage.errors import error_body
from hyperpage.logging import get_logger

log = get_logger(__name__)

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/api/health", "/api/metrics", "/favicon.ico"})
EXEMPT_PREFIXES = ("/static/",)
NAMESPACE = "hyperpage-api"


def storage_uri(settings: Settings) -> str:
    if settings.redis_url is None:
        return "async+memory://"
    return "async+" + settings.redis_url.get_secret_value()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.item = RateLimitItemPerHour(settings.hyperpage_rate_limit_per_hour)
        uri = storage_uri(settings)
        # redis-py is already a dependency (limits[redis]); coredis would be a second Redis client
        options = {"implementation": "redispy"} if "redis" in uri else {}
        self.storage = storage_from_string(uri, **options)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.trusted = settings.trusted_proxy_networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        key = client_address(scope, self.trusted)
        try:
            allowed = await self.limiter.hit(self.item, NAMESPACE, key)
            stats = await self.limiter.get_window_stats(self.item, NAMESPACE, key)
        except Exception as exc:  # the limiter's store is down: serve rather than fail every request
            log.warning("rate_limit_store_unavailable", error=type(exc).__name__)
            await self.app(scope, receive, send)
            return
        reset_in = max(0, math.ceil(stats.reset_time - time.time()))
        headers = [
            (b"ratelimit-limit", str(self.item.amount).encode()),
            (b"ratelimit-remaining", str(max(0, stats.remaining)).encode()),
            (b"ratelimit-reset", str(reset_in).encode()),
        ]
        if not allowed:
            await _too_many(send, headers, reset_in)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _too_many(send: Send, headers: list[tuple[bytes, bytes]], retry_after: int) -> None:
    body = orjson.dumps(error_body(
        "rate_limited", f"too many requests from this client; retry in {retry_after} s"))
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(1, retry_after)).encode()), (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})
