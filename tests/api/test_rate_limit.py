"""The API's own per-client rate limit: profile limits, headers, exemptions, trusted proxies, shared Redis."""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from hyperpage.api import ratelimit
from hyperpage.db import schema
from hyperpage.main import create_app
from tests.conftest import make_settings
from tests.serverproc import ServerProcess, wait_until
from tests.tooling import free_port, require_tool


def _client(app, peer: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize("db_engine_name", ["postgresql"])  # production requires PostgreSQL
async def test_the_1001st_request_in_an_hour_in_production_gets_429(db_url) -> None:
    settings = make_settings(
        db_url, hyperpage_env="production", hyperpage_auth="off", hyperpage_auth_allow_anonymous=True
    )  # counts per client address here
    assert settings.hyperpage_rate_limit_per_hour == 1000
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as http:
        for n in range(1000):
            resp = await http.get("/openapi.json")
            assert resp.status_code == 200, n
        assert resp.headers["ratelimit-limit"] == "1000" and resp.headers["ratelimit-remaining"] == "0"
        over = await http.get("/openapi.json")
        assert over.status_code == 429
        assert 0 < int(over.headers["retry-after"]) <= 3600
        assert int(over.headers["ratelimit-reset"]) <= 3600 and over.headers["ratelimit-remaining"] == "0"
        assert over.json()["error"]["code"] == "rate_limited"
        assert over.headers["x-content-type-options"] == "nosniff"  # 429s carry the security headers too
        # probes are exempt (metrics have their own port); another client has its own budget
        for path in ("/livez", "/readyz", "/api/health"):
            assert (await http.get(path)).status_code == 200, path
        assert (await http.get("/api/metrics")).status_code == 429  # no exempt metrics route on the public port
        async with _client(app, peer="198.51.100.9") as other:
            assert (await other.get("/openapi.json")).status_code == 200


async def test_forwarded_for_counts_only_from_trusted_proxies(db_url) -> None:
    settings = make_settings(db_url, hyperpage_rate_limit_per_hour=2, hyperpage_trusted_proxies="10.0.0.0/8")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with _client(app, peer="10.1.2.3") as proxy:
            for _ in range(2):
                assert (await proxy.get("/openapi.json", headers={"X-Forwarded-For": "192.0.2.1"})).status_code == 200
            blocked = await proxy.get("/openapi.json", headers={"X-Forwarded-For": "192.0.2.1"})
            assert blocked.status_code == 429
            # a spoofed left-most entry does not buy a fresh budget: the proxy-appended hop is the client
            spoof = await proxy.get("/openapi.json", headers={"X-Forwarded-For": "6.6.6.6, 192.0.2.1"})
            assert spoof.status_code == 429
            assert (await proxy.get("/openapi.json", headers={"X-Forwarded-For": "192.0.2.2"})).status_code == 200
        async with _client(app, peer="203.0.113.50") as direct:  # untrusted peer: its XFF is ignored
            for _ in range(2):
                await direct.get("/openapi.json", headers={"X-Forwarded-For": "192.0.2.77"})
            assert (await direct.get("/openapi.json", headers={"X-Forwarded-For": "192.0.2.78"})).status_code == 429


# Deployed Redis requires a password (deploy/k8s/components/redis), so the test server does too.
REDIS_PASSWORD = secrets.token_hex(16)


@contextmanager
def _redis_server(tmp_path: Path, port: int, unix_socket: Path | None = None) -> Iterator[str]:
    binary = require_tool("redis-server", hint="scripts/deps/30-redis.sh")
    proc = subprocess.Popen(  # our own test server, loopback only (or a socket file alone, with port 0)
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            *(["--unixsocket", str(unix_socket)] if unix_socket else []),
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        if unix_socket:
            client = redis.Redis(unix_socket_path=str(unix_socket), password=REDIS_PASSWORD)
            assert wait_until(lambda: _ping(client), timeout=10), "redis-server did not start"
            yield f"unix://:{REDIS_PASSWORD}@{unix_socket}"  # redis-py's socket URL, as docs/configuration.md has it
            return
        client = redis.Redis(host="127.0.0.1", port=port, password=REDIS_PASSWORD)
        assert wait_until(lambda: _ping(client), timeout=10), "redis-server did not start"
        yield f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with _redis_server(tmp_path, free_port()) as url:
        yield url


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def test_two_server_processes_sharing_redis_share_the_count(redis_url, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    schema.upgrade(db)
    env = {
        "DATABASE_URL": db,
        "REDIS_URL": redis_url,
        "HYPERPAGE_RATE_LIMIT_PER_HOUR": "6",
        "HYPERPAGE_SCHEDULER": "false",
        "LOG_LEVEL": "WARNING",
    }
    servers = [ServerProcess(env=env).start(tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        for server in servers:
            assert server.wait_status("/livez", 200), server.logs()
        a, b = (httpx.Client(base_url=s.base_url, timeout=5) for s in servers)
        remaining = []
        for http in (a, b, a, b, a, b):
            resp = http.get("/api/v1/tools")
            assert resp.status_code == 200, resp.text
            remaining.append(int(resp.headers["ratelimit-remaining"]))
        assert remaining == [5, 4, 3, 2, 1, 0]  # one count across both processes
        assert a.get("/api/v1/tools").status_code == 429
        assert b.get("/api/v1/tools").status_code == 429
        assert b.get("/livez").status_code == 200
    finally:
        for server in servers:
            server.stop()


async def test_while_redis_is_unreachable_each_process_counts_in_memory(db_url) -> None:
    app = create_app(
        make_settings(db_url, redis_url=f"redis://127.0.0.1:{free_port()}/0", hyperpage_rate_limit_per_hour=3)
    )
    async with app.router.lifespan_context(app), _client(app) as http:
        answers = [await http.get("/api/v1/tools") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]  # limited, not unlimited nor refused
        assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
        assert _rate_limiter(app).store_down_since is not None  # the limiter knows it is counting alone


async def test_counting_returns_to_redis_once_it_answers_again(db_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ratelimit, "STORE_RETRY_SECONDS", 0.2)
    port = free_port()
    app = create_app(
        make_settings(
            db_url, redis_url=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0", hyperpage_rate_limit_per_hour=5
        )
    )
    async with app.router.lifespan_context(app), _client(app) as http:
        assert (await http.get("/api/v1/tools")).headers["ratelimit-remaining"] == "4"  # in memory
        with _redis_server(tmp_path, port):
            await asyncio.sleep(0.3)
            resp = await http.get("/api/v1/tools")
            assert resp.headers["ratelimit-remaining"] == "4"  # a fresh count, in Redis
            assert _rate_limiter(app).store_down_since is None
            import redis

            keys = redis.Redis(host="127.0.0.1", port=port, password=REDIS_PASSWORD).keys("*hyperpage-api*")
            assert len(keys) == 1


async def test_while_redis_is_down_one_request_at_a_time_asks_it_again(db_url, monkeypatch) -> None:
    # the five requests below must all arrive within one retry window, also on a loaded machine (under load 7
    # they came 0.4-0.9 s apart with a 0.2 s window, and a second one was due to ask)
    monkeypatch.setattr(ratelimit, "STORE_RETRY_SECONDS", 1.0)
    real_count, asked_store = ratelimit._count, []

    async def count(limiter, item, key):
        asked_store.append(limiter is _rate_limiter(app).limiter)
        return await real_count(limiter, item, key)

    monkeypatch.setattr(ratelimit, "_count", count)
    # a Redis that accepts connections and never answers: every ask of the store costs the full 0.5 s timeout
    with socket.create_server(("127.0.0.1", 0)) as silent:
        app = create_app(
            make_settings(
                db_url, redis_url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0", hyperpage_rate_limit_per_hour=100
            )
        )
        async with app.router.lifespan_context(app), _client(app) as http:
            assert (await http.get("/api/v1/tools")).status_code == 200
            assert _rate_limiter(app).store_down_since is not None
            await asyncio.sleep(1.1)  # the store is due to be asked again
            asked_store.clear()
            answers = await asyncio.gather(*(http.get("/api/v1/tools") for _ in range(5)))
            assert [r.status_code for r in answers] == [200] * 5
            # one request waits on the store; the four beside it are counted in memory without waiting
            assert asked_store.count(True) == 1, asked_store


def _rate_limiter(app) -> ratelimit.RateLimitMiddleware:
    layer = app.middleware_stack
    while not isinstance(layer, ratelimit.RateLimitMiddleware):
        layer = layer.app
    return layer


def test_a_wrong_redis_password_is_served_like_an_unreachable_redis(redis_url, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'wrong.db'}"
    schema.upgrade(db)
    wrong = secrets.token_hex(16)
    env = {
        "DATABASE_URL": db,
        "REDIS_URL": redis_url.replace(REDIS_PASSWORD, wrong),
        "HYPERPAGE_SCHEDULER": "false",
        "LOG_LEVEL": "INFO",
        "HYPERPAGE_RATE_LIMIT_PER_HOUR": "10000",
    }
    server = ServerProcess(env=env).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/livez", 200), server.logs()
        for _ in range(3):
            resp = httpx.get(server.base_url + "/api/v1/tools", timeout=5)
            assert resp.status_code == 200, resp.text  # answered, not a 500
        logs = server.logs()
        assert "rate_limit_store_unavailable" in logs, logs
        assert resp.headers["ratelimit-remaining"] == "9997"  # counted in this process meanwhile
        assert wrong not in logs and REDIS_PASSWORD not in logs
    finally:
        server.stop()


def test_local_windows_count_reopen_after_their_hour_and_forget_ended_ones(monkeypatch) -> None:
    # the in-memory count one process keeps (no Redis), and the fallback while Redis is down
    clock = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    item, windows = ratelimit.RateLimitItemPerHour(2), ratelimit.LocalWindows()
    hits = [windows.hit("ip:a", item) for _ in range(3)]
    assert [(allowed, stats.remaining) for allowed, stats in hits] == [(True, 1), (True, 0), (False, 0)]
    assert {stats.reset_time for _, stats in hits} == {clock[0] + 3600}  # one window, from the first hit
    assert windows.hit("ip:b", item)[0] is True  # every client has its own
    clock[0] += 3600  # the window ended: a fresh count, and the ended windows are dropped
    allowed, stats = windows.hit("ip:a", item)
    assert (allowed, stats.remaining, stats.reset_time) == (True, 1, clock[0] + 3600)
    assert set(windows._windows) == {"ip:a"}


async def test_a_unix_socket_redis_url_counts_in_redis(db_url, tmp_path) -> None:
    # REDIS_URL accepts unix:///path (config.py, docs/configuration.md): `limits` knows no such scheme (it has
    # redis+unix://), which stopped the start; a check on the URL's text then took it for "no Redis" and counted
    # each process alone. The count must be in the Redis behind the socket.
    sock = tmp_path / "redis.sock"
    with _redis_server(tmp_path, 0, unix_socket=sock) as url:
        app = create_app(make_settings(db_url, redis_url=url, hyperpage_rate_limit_per_hour=5))
        async with app.router.lifespan_context(app), _client(app) as http:
            assert (await http.get("/api/v1/tools")).headers["ratelimit-remaining"] == "4"
            assert _rate_limiter(app).store_down_since is None
        import redis

        keys = redis.Redis(unix_socket_path=str(sock), password=REDIS_PASSWORD).keys("*hyperpage-api*")
        assert len(keys) == 1
