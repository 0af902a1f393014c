"""The Redis component: REDIS_URL reaches the rendered Redis, and the rendered Redis serves the real limiter.

Static half: in staging and production the web pods' REDIS_URL names the component's Service, whose port
and selector lead to the Redis container. Run half: redis-server starts with the container's rendered
arguments (plus a loopback bind, a free port and a temporary dir: test-only), and two app instances
sharing it share one rate-limit count, the reason the component exists.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hyperpage.db import schema
from hyperpage.main import create_app
from tests.conftest import make_settings
from tests.deploy.k8s.appview import web_container
from tests.deploy.k8s.manifests import OVERLAYS, Rendered, container_port, overlay
from tests.deploy.k8s.netpol import selects
from tests.tooling import free_port, require_tool

SHARED = ("staging", "production")


def redis_container(rendered: Rendered) -> tuple[dict, dict]:
    template = rendered.get("Deployment", "hyperpage-redis")["spec"]["template"]
    [container] = template["spec"]["containers"]
    return template, container


@pytest.mark.parametrize("name", OVERLAYS)
def test_redis_url_leads_to_the_redis_container(name: str) -> None:
    rendered = overlay(name)
    _, web = web_container(rendered)
    url = rendered.app_env(web).get("REDIS_URL")
    if name not in SHARED:
        assert url is None and rendered.find("Deployment", "hyperpage-redis") is None
        return
    parts = urlsplit(url)
    assert parts.scheme == "redis" and parts.password is None, "the URL sits in a ConfigMap: no credential"
    service = rendered.get("Service", parts.hostname)
    template, container = redis_container(rendered)
    assert selects({"matchLabels": service["spec"]["selector"]}, template["metadata"]["labels"])
    [port] = [p for p in service["spec"]["ports"] if p["port"] == (parts.port or 6379)]
    assert container_port(container, port["targetPort"]) == int(_arg(container, "--port"))
    assert rendered.get("Deployment", "hyperpage-redis")["spec"]["strategy"]["type"] == "Recreate"


def _arg(container: dict, flag: str) -> str:
    args = container["args"]
    return args[args.index(flag) + 1]


@pytest.fixture
def rendered_redis(tmp_path: Path) -> Iterator[str]:
    """redis-server with the production container's arguments; its URL."""
    binary = require_tool("redis-server", hint="scripts/deps/30-redis.sh")
    _, container = redis_container(overlay("production"))
    assert container["command"] == ["redis-server"]
    args = list(container["args"])
    port = free_port()
    args[args.index("--port") + 1] = str(port)
    args[args.index("--dir") + 1] = str(tmp_path)
    proc = subprocess.Popen([binary, *args, "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            assert proc.poll() is None, "redis-server rejected the rendered arguments"
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == _arg(container, "--maxmemory-policy")
        assert client.config_get("save")["save"] == ""
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_two_apps_share_one_count_through_the_rendered_redis(rendered_redis: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    schema.upgrade(url)
    settings = make_settings(url, redis_url=rendered_redis, hyperpage_rate_limit_per_hour=3)
    apps = [create_app(settings), create_app(settings)]
    codes = []
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport,
                                                                             base_url="http://pod")))
        for index in range(4):
            codes.append((await clients[index % 2].get("/api/v1/tools")).status_code)
    assert codes == [200, 200, 200, 429], "the replicas did not share the count"
