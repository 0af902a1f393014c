"""Per-client API rate limit: counted in memory for one process, in Redis (the `limits` library) across replicas.

Fixed one-hour windows keep one counter per client (a moving window would store every request's time). A
client is the signed-in identity (user, API token) that IdentityMiddleware resolved before this layer, else
the client address: users behind one NAT or proxy get a budget each, and a token costs the same from anywhere.
Probes and static files are exempt: kubelets must never be throttled (metrics have their own port).
When Redis does not answer (within half a second), each process counts in its own memory and tries Redis
again a few seconds later: clients are still limited (per replica) rather than unlimited or refused.
"""

from __future__ import annotations

import math
import time

import orjson
from limits import RateLimitItemPerHour
from limits.aio.strategies import FixedWindowRateLimiter
from limits.limits import RateLimitItem
from limits.storage import storage_from_string
from limits.util import WindowStats
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperpage.api.clientinfo import client_address
from hyperpage.config import Settings
from hyperpage.errors import error_body
from hyperpage.logging import get_logger

log = get_logger(__name__)

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/api/health", "/favicon.ico"})
EXEMPT_PREFIXES = ("/static/",)
NAMESPACE = "hyperpage-api"
STORE_TIMEOUT_SECONDS = 0.5  # a healthy in-cluster Redis answers in about a millisecond
STORE_RETRY_SECONDS = 5.0  # after a failure, count in memory this long before asking Redis again


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.item = RateLimitItemPerHour(settings.hyperpage_rate_limit_per_hour)
        self._limit_header = (b"ratelimit-limit", str(self.item.amount).encode())
        # the shared store (Redis) through `limits`; None: one process, counted in its memory alone
        self.limiter: FixedWindowRateLimiter | None = None
        if settings.redis_url is not None:
            # redis-py is already a dependency (limits[redis]); coredis would be a second Redis client
            url = settings.redis_url.get_secret_value()
            # `limits` names a Redis socket redis+unix://; REDIS_URL takes redis-py's unix:// (docs/configuration.md)
            scheme = "async+redis+" if url.startswith("unix://") else "async+"
            store = storage_from_string(
                scheme + url,
                implementation="redispy",
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
            self.limiter = FixedWindowRateLimiter(store)
        self.local = LocalWindows()  # also the fallback while the shared store does not answer
        self.store_down_since: float | None = None
        self._retry_store_at = 0.0
        self.trusted = settings.trusted_proxy_networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        allowed, stats = await self._hit(self._key(scope))
        reset_in = max(0, math.ceil(stats.reset_time - time.time()))
        headers = [
            self._limit_header,
            (b"ratelimit-remaining", str(max(0, stats.remaining)).encode()),
            (b"ratelimit-reset", str(reset_in).encode()),
        ]
        if not allowed:
            await _too_many(send, headers, reset_in)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _key(self, scope: Scope) -> str:
        identity = scope.get("state", {}).get("identity")
        if identity is not None and identity.authenticated:
            subject: str = identity.subject
            return "id:" + subject
        return "ip:" + client_address(scope, self.trusted)

    async def _hit(self, key: str) -> tuple[bool, WindowStats]:
        if self.limiter is None:
            return self.local.hit(key, self.item)
        if self.store_down_since is None or time.monotonic() >= self._retry_store_at:
            if self.store_down_since is not None:  # one request asks the store again; the others count in memory
                self._retry_store_at = time.monotonic() + STORE_RETRY_SECONDS
            try:
                result = await _count(self.limiter, self.item, key)
            except Exception as exc:  # Redis down or slow: never fail or stall every request on it
                if self.store_down_since is None:
                    self.store_down_since = time.monotonic()
                    log.warning(
                        "rate_limit_store_unavailable",
                        error=type(exc).__name__,
                        fallback="counting per process until the store answers",
                    )
                self._retry_store_at = time.monotonic() + STORE_RETRY_SECONDS
            else:
                if self.store_down_since is not None:
                    log.info("rate_limit_store_back", outage_s=round(time.monotonic() - self.store_down_since, 1))
                    self.store_down_since = None
                return result
        return self.local.hit(key, self.item)


class LocalWindows:
    """Fixed windows in this process's memory, counted as `limits`' MemoryStorage counts them (a window opens at
    a key's first hit and lasts the item's expiry), without its two coroutines, lock and expiry task per request
    (~10 % of a cached page's CPU). Nothing awaits between reading a count and writing it: no lock is needed."""

    PRUNE_SECONDS = 60.0

    def __init__(self) -> None:
        self._windows: dict[str, list[float]] = {}  # key -> [count, end of its window (time.time())]
        self._next_prune = 0.0

    def hit(self, key: str, item: RateLimitItem) -> tuple[bool, WindowStats]:
        now = time.time()
        window = self._windows.get(key)
        if window is None or window[1] <= now:
            self._prune(now)
            window = self._windows[key] = [0, now + item.get_expiry()]
        window[0] += 1
        return window[0] <= item.amount, WindowStats(window[1], max(0, item.amount - int(window[0])))

    def _prune(self, now: float) -> None:
        # ended windows go at most once a minute: memory stays bounded by the clients seen in one window
        if now >= self._next_prune:
            self._windows = {key: window for key, window in self._windows.items() if window[1] > now}
            self._next_prune = now + self.PRUNE_SECONDS


async def _count(limiter: FixedWindowRateLimiter, item: RateLimitItem, key: str) -> tuple[bool, WindowStats]:
    """FixedWindowRateLimiter.hit, then get_window_stats, in one: the storage key built once, and the count the
    increment returns instead of reading it back (hit then stats was three Redis round trips, now two)."""
    storage_key = item.key_for(NAMESPACE, key)
    count = await limiter.storage.incr(storage_key, item.get_expiry())
    reset = await limiter.storage.get_expiry(storage_key)
    return count <= item.amount, WindowStats(reset, max(0, item.amount - count))


async def _too_many(send: Send, headers: list[tuple[bytes, bytes]], retry_after: int) -> None:
    body = orjson.dumps(error_body("rate_limited", f"too many requests from this client; retry in {retry_after} s"))
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(max(1, retry_after)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
