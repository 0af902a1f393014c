"""The one request loop: retries with backoff, Retry-After, GitHub secondary limits, quota reserve,
circuit breaker, per-token concurrency. Time is injected: no test waits for real."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from hyperpage.tools.errors import (
    BadPayload,
    CircuitOpen,
    ForeignLink,
    RateLimited,
    UpstreamServerError,
    UpstreamUnavailable,
)
from hyperpage.tools.http import ClientPool, RequestStats, decode_json
from tests.conftest import make_settings
from tests.sync.harness import SleepRecorder


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_client(handler, tmp_path, *, clock=None, **overrides):
    settings = make_settings(f"sqlite:///{tmp_path}/x.db", **overrides)
    sleep = SleepRecorder()
    clock = clock or FakeClock()

    async def advancing_sleep(seconds: float) -> None:
        await sleep(seconds)
        clock.now += seconds

    pool = ClientPool(settings, transport=httpx.MockTransport(handler), sleep=advancing_sleep, clock=clock)
    client = pool.get(
        tool="github",
        connection="default",
        base_url="https://api.example",
        token="t0ken-value",
        headers={},
        parse_quota=_github_quota,
    )
    return client, sleep, clock


def _github_quota(response: httpx.Response):
    from hyperpage.tools.github.client import parse_quota

    return parse_quota(response)


def scripted(*responses: httpx.Response):
    queue = list(responses)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


async def test_server_errors_back_off_exponentially_with_jitter_then_succeed(tmp_path) -> None:
    handler = scripted(httpx.Response(500), httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[]))
    client, sleep, _ = make_client(handler, tmp_path)
    stats = RequestStats()
    response = await client.request("GET", "/x", resource="pull_requests", stats=stats)
    assert response.status_code == 200 and stats.requests == 4 and stats.retries == 3
    # equal jitter: attempt n waits between base*2^n/2 and base*2^n
    for n, waited in enumerate(sleep.calls):
        assert 2**n / 2 <= waited <= 2**n


async def test_server_errors_exhaust_retries_and_open_the_breaker(tmp_path) -> None:
    handler = scripted(httpx.Response(500, text="boom"))
    client, _sleep, clock = make_client(handler, tmp_path)
    for _ in range(3):
        with pytest.raises(UpstreamServerError, match=r"^500: GET /x: server error after 4 attempts"):
            await client.request("GET", "/x", resource="issues", stats=RequestStats())
    calls = len(handler.calls)
    with pytest.raises(CircuitOpen):
        await client.request("GET", "/x", resource="issues", stats=RequestStats())
    assert len(handler.calls) == calls  # refused without touching the upstream
    clock.now += 61  # half-open: one trial call goes out
    with pytest.raises(UpstreamServerError):
        await client.request("GET", "/x", resource="issues", stats=RequestStats())
    assert len(handler.calls) == calls + 4


async def test_connection_errors_and_timeouts_are_retried(tmp_path) -> None:
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(attempts) == 2:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={})

    client, sleep, _ = make_client(handler, tmp_path)
    assert (await client.request("GET", "/x", resource="issues", stats=RequestStats())).status_code == 200
    assert len(sleep.calls) == 2

    def always_down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, _, _ = make_client(always_down, tmp_path)
    with pytest.raises(UpstreamUnavailable, match="connection"):
        await client.request("GET", "/x", resource="issues", stats=RequestStats())


async def test_429_retry_after_pauses_the_connection_then_succeeds(tmp_path) -> None:
    handler = scripted(httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(200, json=[]))
    client, sleep, _ = make_client(handler, tmp_path)
    response = await client.request("GET", "/x", resource="pull_requests", stats=RequestStats())
    assert response.status_code == 200 and sleep.calls == [2.0]


async def test_github_secondary_limit_waits_until_reset(tmp_path) -> None:
    clock = FakeClock()
    reset = str(int(clock.now + 30))
    handler = scripted(
        httpx.Response(
            403,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": reset},
            json={"message": "API rate limit exceeded"},
        ),
        httpx.Response(403, json={"message": "You have exceeded a secondary rate limit"}),
        httpx.Response(200, json=[]),
    )
    client, sleep, _ = make_client(handler, tmp_path, clock=clock)
    await client.request("GET", "/x", resource="pull_requests", stats=RequestStats())
    assert sleep.calls[0] == pytest.approx(30) and sleep.calls[1] == pytest.approx(60)


async def test_long_retry_after_ends_the_run_instead_of_holding_the_worker(tmp_path) -> None:
    handler = scripted(httpx.Response(429, headers={"retry-after": "3600"}))
    client, sleep, _ = make_client(handler, tmp_path)
    with pytest.raises(RateLimited) as info:
        await client.request("GET", "/x", resource="pull_requests", stats=RequestStats())
    assert info.value.retry_after.total_seconds() == 3600 and sleep.calls == []
    with pytest.raises(RateLimited):  # the whole connection is paused, not just that request
        await client.request("GET", "/y", resource="issues", stats=RequestStats())


async def test_quota_reserve_pauses_the_connection_until_reset(tmp_path) -> None:
    clock = FakeClock()
    reset = datetime.fromtimestamp(clock.now + 40, UTC)
    handler = scripted(
        httpx.Response(
            200,
            json=[],
            headers={
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "249",
                "x-ratelimit-reset": str(int(reset.timestamp())),
            },
        )
    )
    client, sleep, _ = make_client(handler, tmp_path, clock=clock)
    await client.request("GET", "/x", resource="pull_requests", stats=RequestStats())
    assert sleep.calls == []  # 249 <= 5% of 5000: the next call waits for the reset
    await client.request("GET", "/x", resource="pull_requests", stats=RequestStats())
    assert sleep.calls == [pytest.approx(40)]
    assert client.samples["core"].remaining == 249


async def test_concurrency_is_capped_per_token(tmp_path) -> None:
    active, peak = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return httpx.Response(200, json=[])

    client, _, _ = make_client(slow, tmp_path, sync_concurrency_per_token=2)
    await asyncio.gather(*(client.request("GET", f"/x{i}", resource="issues", stats=RequestStats()) for i in range(8)))
    assert peak == 2


def test_malformed_json_and_wrong_shape_are_bad_payloads() -> None:
    request = httpx.Request("GET", "https://api.example/x")
    with pytest.raises(BadPayload, match="malformed JSON"):
        decode_json(httpx.Response(200, text="{oops", request=request), list)
    with pytest.raises(BadPayload, match="expected a JSON list"):
        decode_json(httpx.Response(200, json={"a": 1}, request=request), list)


async def test_a_redirect_to_another_origin_is_refused_before_any_request_goes_there(tmp_path) -> None:
    # A Location header is as untrusted as a Link: only the configured API origin gets a request (and the token).
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(301, headers={"location": "https://elsewhere.example.org/repositories/1"})

    client, _, _ = make_client(handler, tmp_path)
    with pytest.raises(ForeignLink, match=r"elsewhere\.example\.org"):
        await client.request("GET", "/repos/acme/old", resource="repositories", stats=RequestStats())
    assert [c.url.host for c in calls] == ["api.example"]
    with pytest.raises(ForeignLink):  # an absolute URL given directly is checked the same way
        await client.request("GET", "http://api.example:8080/x", resource="issues", stats=RequestStats())
