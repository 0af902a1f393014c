"""The only request loop for upstream APIs: retries, backoff, rate limits, quota reserve, concurrency, breaker.

Policy (values from settings, defaults in brackets):
- 5xx, timeouts and connection errors: retried `max_retries` [3] times, waiting base*2^n [1 s, 2 s, 4 s ...]
  capped at `backoff_max` [30 s], with "equal jitter" (half fixed, half random) so workers do not retry in step.
- 429 and GitHub's secondary limits (403/429 with `Retry-After` or `X-RateLimit-Remaining: 0`): the wait is
  `Retry-After`, else the reset header minus now (floored at 0), else 60 s
  (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api). The whole connection is
  paused for that long. Waits up to `max_wait` [60 s] are slept here (at most twice); longer ones end the run
  with RateLimited so the scheduler resumes the job after the reset instead of holding a worker.
- Quota reserve: when a sample says remaining <= reserve% of limit [5%], the connection pauses until reset.
- A semaphore per token caps concurrent requests [4]; a breaker per connection opens after 3 consecutive
  failed calls and half-opens after 60 s (the original Hyperpage's values).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hyperpage import metrics
from hyperpage.config import Settings
from hyperpage.tools.errors import (
    AuthFailed,
    BadPayload,
    CircuitOpen,
    NotFound,
    RateLimited,
    ToolError,
    UpstreamServerError,
    UpstreamUnavailable,
)
from hyperpage.tools.links import check_origin

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
RATE_LIMIT_RETRIES = 2
RETRY_REASONS = ("server_error", "timeout", "connection", "rate_limit", "secondary_rate_limit")
DEFAULT_RATE_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_wait: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.sync_max_retries,
            settings.sync_backoff_base_seconds,
            settings.sync_backoff_max_seconds,
            settings.sync_max_wait_seconds,
        )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class QuotaSample:
    resource: str
    limit: int
    remaining: int
    reset_at: datetime | None


QuotaParser = Callable[[httpx.Response], list[QuotaSample]]


@dataclass
class CircuitBreaker:
    """Open after `threshold` consecutive failures; allow one trial call after `reset_after` seconds."""

    tool: str
    connection: str
    clock: Clock
    threshold: int = 3
    reset_after: float = 60.0
    failures: int = 0
    opened_at: float | None = None

    def check(self) -> None:
        if self.opened_at is None:
            return
        if self.clock() - self.opened_at < self.reset_after:
            raise CircuitOpen(f"{self.tool}/{self.connection}: circuit open after {self.failures} failures")
        self.opened_at = None  # half-open: this call is the trial; one more failure re-opens it
        self.failures = self.threshold - 1
        self._publish()

    def record(self, ok: bool) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
        else:
            self.failures += 1
            if self.failures >= self.threshold and self.opened_at is None:
                self.opened_at = self.clock()
        self._publish()

    def _publish(self) -> None:
        metrics.CIRCUIT_BREAKER_OPEN.labels(self.tool, self.connection).set(1 if self.opened_at else 0)


@dataclass
class RequestStats:
    """What one sync run spent; several runs may share a client, each brings its own stats."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0


@dataclass
class UpstreamClient:
    """One per connection and process: shares the breaker, the pause and the token's semaphore."""

    tool: str
    connection: str
    base_url: str
    headers: dict[str, str]
    parse_quota: QuotaParser
    semaphore: asyncio.Semaphore
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    reserve_fraction: float = 0.05
    timeout: float = 30.0
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.time
    rng: random.Random = field(default_factory=random.Random)
    paused_until: float = 0.0
    samples: dict[str, QuotaSample] = field(default_factory=dict)
    samples_written: dict[str, tuple[QuotaSample, datetime]] = field(default_factory=dict)
    breaker: CircuitBreaker = field(init=False)
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.breaker = CircuitBreaker(self.tool, self.connection, self.clock)
        # Every request, redirect hops included, passes the origin check: links and Location headers are
        # followed verbatim, but only inside the configured API origin (tools/links.py says why).
        self._http = httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            headers=self.headers,
            timeout=self.timeout,
            transport=self.transport,
            follow_redirects=True,
            event_hooks={"request": [self._check_origin]},
        )

    async def _check_origin(self, request: httpx.Request) -> None:
        check_origin(tool=self.tool, base_url=self.base_url, url=request.url)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        resource: str,
        stats: RequestStats,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one logical request; returns a 2xx or 304 response or raises a ToolError."""
        rate_limit_waits = 0
        attempt = 0
        while True:
            self.breaker.check()
            await self._wait_for_pause()
            try:
                async with self.semaphore:
                    stats.requests += 1
                    response = await self._http.request(method, url, params=params, json=json, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
                metrics.UPSTREAM_REQUESTS.labels(self.tool, resource, "error").inc()
                if attempt >= self.policy.max_retries:
                    self.breaker.record(False)
                    raise UpstreamUnavailable(f"{method} {url}: {reason} ({type(exc).__name__})") from None
                await self._retry(reason, self.policy.backoff(attempt, self.rng), stats)
                attempt += 1
                continue
            status = response.status_code
            metrics.UPSTREAM_REQUESTS.labels(self.tool, resource, f"{status // 100}xx").inc()
            self._record_quota(response)
            if status < 300 or status == 304:
                if status == 304:
                    stats.not_modified += 1
                    metrics.UPSTREAM_NOT_MODIFIED.labels(self.tool, resource).inc()
                self.breaker.record(True)
                return response
            wait = self._rate_limit_wait(response)
            if wait is not None:
                self.paused_until = max(self.paused_until, self.clock() + wait)
                reason = "rate_limit" if status == 429 else "secondary_rate_limit"
                if wait > self.policy.max_wait or rate_limit_waits >= RATE_LIMIT_RETRIES:
                    raise RateLimited(
                        f"{method} {url}: rate limited for {wait:.0f} s",
                        retry_after=timedelta(seconds=wait),
                        status_code=status,
                        body=response.text,
                    )
                rate_limit_waits += 1
                await self._retry(reason, 0.0, stats)  # the pause above makes the wait
                continue
            if status >= 500:
                if attempt >= self.policy.max_retries:
                    self.breaker.record(False)
                    raise UpstreamServerError(
                        f"{method} {url}: server error after {attempt + 1} attempts",
                        status_code=status,
                        body=response.text,
                    )
                await self._retry("server_error", self.policy.backoff(attempt, self.rng), stats)
                attempt += 1
                continue
            self.breaker.record(True)  # a 4xx is our request's fault, not the upstream's health
            raise _client_error(method, url, response)

    async def _wait_for_pause(self) -> None:
        delay = self.paused_until - self.clock()
        if delay > self.policy.max_wait:
            raise RateLimited(
                f"{self.tool}/{self.connection}: paused for {delay:.0f} s (rate limit or quota reserve)",
                retry_after=timedelta(seconds=delay),
            )
        if delay > 0:
            await self.sleep(delay)

    async def _retry(self, reason: str, delay: float, stats: RequestStats) -> None:
        stats.retries += 1
        metrics.UPSTREAM_RETRIES.labels(self.tool, reason).inc()
        if delay > 0:
            await self.sleep(delay)

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait if this response is a primary or secondary rate limit, else None."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after is not None:
            return parse_retry_after(retry_after, self.clock())
        if response.headers.get("x-ratelimit-remaining") == "0" or response.status_code == 429:
            reset = _reset_epoch(response.headers.get("x-ratelimit-reset") or response.headers.get("ratelimit-reset"))
            return max(reset - self.clock(), 0.0) if reset else DEFAULT_RATE_LIMIT_WAIT
        if "secondary rate limit" in response.text.lower():
            return DEFAULT_RATE_LIMIT_WAIT  # GitHub: "wait at least one minute" when no header says more
        return None

    def _record_quota(self, response: httpx.Response) -> None:
        for sample in self.parse_quota(response):
            self.record_sample(sample)

    def record_sample(self, sample: QuotaSample) -> None:
        """Keep the newest sample of a resource (from headers, or a GraphQL body's `rateLimit`)."""
        self.samples[sample.resource] = sample
        if sample.limit > 0 and sample.remaining <= sample.limit * self.reserve_fraction and sample.reset_at:
            # Keep the reserve for people using the same token by hand; resume after the reset.
            self.paused_until = max(self.paused_until, sample.reset_at.timestamp())


def _client_error(method: str, url: str, response: httpx.Response) -> ToolError:
    status = response.status_code
    kind: type[ToolError] = ToolError
    if status in (401, 403):
        kind = AuthFailed
    elif status == 404:
        kind = NotFound
    detail = _upstream_message(response) or response.reason_phrase or "request refused"
    return kind(f"{method} {url}: {detail}", status_code=status, body=response.text)


def _upstream_message(response: httpx.Response) -> str | None:
    """GitHub/GitLab `message`, Jira `errorMessages`: what the upstream says is wrong (redacted later)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message") or body.get("error") or body.get("errorMessages")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    return str(message)[:200] if message else None


def parse_retry_after(value: str, now: float) -> float:
    """Retry-After is seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
        except (TypeError, ValueError):
            return DEFAULT_RATE_LIMIT_WAIT


def _reset_epoch(value: str | None) -> float | None:
    parsed = parse_reset(value)
    return parsed.timestamp() if parsed else None


def parse_reset(value: str | None) -> datetime | None:
    """Reset headers are epoch seconds (GitHub, GitLab) or an ISO timestamp (Jira Cloud)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def quota_from_headers(response: httpx.Response, prefix: str, resource: str) -> list[QuotaSample]:
    """The `<prefix>-limit`, `-remaining` and `-reset` headers all three tools send, as a sample of `resource`;
    none when the limit or the remaining count is missing (an endpoint that is not rate limited)."""
    limit = header_int(response, f"{prefix}-limit")
    remaining = header_int(response, f"{prefix}-remaining")
    if limit is None or remaining is None:
        return []
    return [QuotaSample(resource, limit, remaining, parse_reset(response.headers.get(f"{prefix}-reset")))]


def header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def decode_json(response: httpx.Response, expect: type) -> Any:
    """Parse the body; malformed JSON or the wrong top-level type fails the run with BadPayload."""
    try:
        data = response.json()
    except ValueError:
        raise BadPayload(
            f"{response.request.method} {response.request.url.path}: malformed JSON",
            status_code=response.status_code,
            body=response.text,
        ) from None
    if not isinstance(data, expect):
        raise BadPayload(
            f"{response.request.url.path}: expected a JSON {expect.__name__}, got {type(data).__name__}",
            status_code=response.status_code,
        )
    return data


@dataclass
class ClientPool:
    """Clients of one process (worker or serve): one per connection, one semaphore per token."""

    settings: Settings
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.time
    clients: dict[tuple[str, str], UpstreamClient] = field(default_factory=dict)
    _semaphores: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def get(
        self,
        *,
        tool: str,
        connection: str,
        base_url: str,
        token: str,
        headers: dict[str, str],
        parse_quota: QuotaParser,
    ) -> UpstreamClient:
        key = (tool, connection)
        if key not in self.clients:
            token_key = hashlib.sha256(token.encode()).hexdigest()
            semaphore = self._semaphores.setdefault(
                token_key, asyncio.Semaphore(self.settings.sync_concurrency_per_token)
            )
            self.clients[key] = UpstreamClient(
                tool=tool,
                connection=connection,
                base_url=base_url,
                headers=headers,
                parse_quota=parse_quota,
                semaphore=semaphore,
                policy=RetryPolicy.from_settings(self.settings),
                reserve_fraction=self.settings.sync_quota_reserve_percent / 100,
                timeout=self.settings.sync_http_timeout_seconds,
                transport=self.transport,
                sleep=self.sleep,
                clock=self.clock,
            )
        return self.clients[key]

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()
