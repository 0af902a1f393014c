"""The Redis component: a password-protected Redis, and the web pods' REDIS_URL (with that password) reaching it.

Static half: in staging and production Redis reads its password from the Secret hyperpage-redis, the web pods
(and only they) read REDIS_URL from a file of the same Secret, no ConfigMap holds a Redis URL, and the URL
leads through the Service to the Redis container. Run half: the container's rendered command (wrapper script
and arguments, plus a loopback bind, a free port and a temporary dir: test-only) starts a real redis-server
that refuses clients without the password, keeps it out of its arguments and environment, passes its own
rendered readiness probe, and lets two app instances share one rate-limit count, the reason it exists.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from hyperpage.db import schema
from hyperpage.main import create_app
from tests.conftest import make_settings
from tests.deploy.k8s.appview import SAMPLE_PASSWORD, secret_files, secret_keys, secret_source, web_container
from tests.deploy.k8s.manifests import OVERLAYS, Rendered, container_port, overlay
from tests.deploy.k8s.netpol import selects
from tests.tooling import free_port, require_tool

SHARED = ("staging", "production")
SECRET = "hyperpage-redis"


def redis_container(rendered: Rendered) -> tuple[dict, dict]:
    template = rendered.get("Deployment", "hyperpage-redis")["spec"]["template"]
    [container] = template["spec"]["containers"]
    return template, container


@pytest.mark.parametrize("name", OVERLAYS)
def test_no_config_map_holds_a_redis_url(name: str) -> None:
    rendered = overlay(name)
    for config in rendered.of_kind("ConfigMap"):
        data = config.get("data") or {}
        assert "REDIS_URL" not in data and "REDIS_URL_FILE" not in data, config["metadata"]["name"]
        assert not [key for key, value in data.items() if "redis://" in value], config["metadata"]["name"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_web_reads_redis_url_with_the_password_from_the_redis_secret(name: str) -> None:
    rendered = overlay(name)
    template, web = web_container(rendered)
    env = rendered.app_env(web)
    if name not in SHARED:
        assert "REDIS_URL_FILE" not in env and rendered.find("Deployment", "hyperpage-redis") is None
        return
    assert "REDIS_URL" not in env
    path = env["REDIS_URL_FILE"]
    url = secret_files(rendered, template, web)[path]
    parts = urlsplit(url)
    assert parts.scheme == "redis" and unquote(parts.password) == SAMPLE_PASSWORD
    # The file is the Secret's redis-url key, and the password beside it is the one Redis reads.
    assert secret_source(template, web, path)[1]["secretName"] == SECRET
    assert (
        unquote(urlsplit(secret_keys(rendered, SECRET)["redis-url"]).password)
        == secret_keys(rendered, SECRET)["password"]
    )
    # The URL leads through the Service to the Redis container.
    service = rendered.get("Service", parts.hostname)
    redis_template, container = redis_container(rendered)
    assert selects({"matchLabels": service["spec"]["selector"]}, redis_template["metadata"]["labels"])
    [port] = [p for p in service["spec"]["ports"] if p["port"] == (parts.port or 6379)]
    assert container_port(container, port["targetPort"]) == int(_arg(container, "--port"))
    assert rendered.get("Deployment", "hyperpage-redis")["spec"]["strategy"]["type"] == "Recreate"
    # Only the web pods get the Redis secret: the worker and the migration Job never mount it.
    for workload, pod in rendered.app_workloads():
        names = {v.get("secret", {}).get("secretName") for v in pod["spec"].get("volumes", [])}
        assert (SECRET in names) == (workload["metadata"]["name"] == "hyperpage-web"), workload["metadata"]["name"]


@pytest.mark.parametrize("name", SHARED)
def test_redis_reads_its_password_from_the_secret_file_only(name: str) -> None:
    rendered = overlay(name)
    template, container = redis_container(rendered)
    path = rendered.app_env(container)["REDIS_PASSWORD_FILE"]
    mount, secret = secret_source(template, container, path)
    assert secret["secretName"] == SECRET and secret["items"] == [{"key": "password", "path": "password"}]
    assert mount["readOnly"] is True
    assert "requirepass" not in container["args"] and "--protected-mode" not in container["args"]
    assert "REDIS_PASSWORD_FILE" in container["command"][2] and "requirepass" in container["command"][2]
    assert "REDISCLI_AUTH" in " ".join(container["readinessProbe"]["exec"]["command"])


def _arg(container: dict, flag: str) -> str:
    args = container["args"]
    return args[args.index(flag) + 1]


def _start(rendered: Rendered, container: dict, password_file: Path, port: int, data_dir: Path) -> subprocess.Popen:
    """The rendered command and arguments, on a free loopback port with a temporary dir."""
    binary = require_tool("redis-server", hint="scripts/deps/30-redis.sh")
    args = list(container["args"])
    args[args.index("--port") + 1] = str(port)
    args[args.index("--dir") + 1] = str(data_dir)
    env = {
        **rendered.app_env(container),
        "REDIS_PASSWORD_FILE": str(password_file),
        "PATH": os.pathsep.join([str(Path(binary).parent), os.environ["PATH"]]),
    }
    return subprocess.Popen(
        [*container["command"], *args, "--bind", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _probe(container: dict, password_file: Path, port: int) -> int:
    """Exit status of the rendered readiness probe, pointed at the test's port."""
    command = [part.replace("-p 6379", f"-p {port}") for part in container["readinessProbe"]["exec"]["command"]]
    env = {"REDIS_PASSWORD_FILE": str(password_file), "PATH": os.environ["PATH"]}
    return subprocess.run(command, env=env, capture_output=True, check=False, timeout=10).returncode


def test_the_wrapper_refuses_a_password_it_cannot_pass_on_safely(tmp_path: Path) -> None:
    rendered = overlay("production")
    _, container = redis_container(rendered)
    password_file = tmp_path / "password"
    for bad in ("", "has space", 'quo"te', "new\nline"):
        password_file.write_text(bad)
        proc = _start(rendered, container, password_file, free_port(), tmp_path)
        _, stderr = proc.communicate(timeout=10)
        assert proc.returncode == 1 and f"REDIS_PASSWORD_FILE ({password_file})" in stderr
        assert len(stderr.strip().splitlines()) == 1 and (not bad or bad not in stderr)


@pytest.fixture
def rendered_redis(tmp_path: Path) -> Iterator[str]:
    """redis-server from the production container's command and arguments; the web pods' URL for it."""
    import redis

    rendered = overlay("production")
    _, container = redis_container(rendered)
    password = secrets.token_hex(32)  # what `openssl rand -hex 32` gives the operator
    password_file = tmp_path / "password"
    password_file.write_text(password)
    port = free_port()
    proc = _start(rendered, container, password_file, port, tmp_path)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        for _ in range(100):
            assert proc.poll() is None, f"redis-server did not start: {proc.stderr.read()}"
            try:
                client.ping()
                break
            except redis.AuthenticationError:  # a ConnectionError too, but one that waiting will not fix
                pytest.fail("redis-server did not take the password from REDIS_PASSWORD_FILE")
            except redis.ConnectionError:
                time.sleep(0.1)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port).ping()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, password="wrong").ping()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == _arg(container, "--maxmemory-policy")
        assert client.config_get("save")["save"] == ""
        # The wrapper exec'd into redis-server: neither its arguments nor its environment hold the password.
        for view in ("cmdline", "environ"):
            assert password.encode() not in Path(f"/proc/{proc.pid}/{view}").read_bytes(), view
        assert _probe(container, password_file, port) == 0
        password_file.write_text("wrong")
        assert _probe(container, password_file, port) != 0, "the readiness probe passed with a wrong password"
        url = urlsplit(secret_keys(rendered, SECRET, password)["redis-url"])
        yield url._replace(netloc=f":{url.password}@127.0.0.1:{port}").geturl()
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
            clients.append(
                await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://pod"))
            )
        for index in range(4):
            codes.append((await clients[index % 2].get("/api/v1/tools")).status_code)
    assert codes == [200, 200, 200, 429], "the replicas did not share the count"
