"""The real server process: readiness follows the database, SIGTERM drains, metrics pass promtool."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from hyperpage.db import schema
from tests.pg import PgCluster
from tests.serverproc import ServerProcess, wait_until
from tests.tooling import require_tool


def test_readiness_follows_postgresql_down_and_up(tmp_path) -> None:
    cluster = PgCluster.start()
    server = None
    try:
        url = cluster.url("postgres")
        schema.upgrade(url)
        server = ServerProcess(env={"DATABASE_URL": url}).start(tmp_path / "serve.log")
        assert server.wait_status("/readyz", 200), server.logs()
        cluster.stop_server()
        stopped = time.monotonic()
        assert server.wait_status("/readyz", 503, timeout=5.0), server.logs()
        assert server.wait_status("/api/health", 503, timeout=5.0 - (time.monotonic() - stopped) + 0.5)
        body = server.get("/api/health").json()
        assert body["database"]["status"] == "down" and body["status"] == "unhealthy"
        assert server.status("/livez") == 200
        cluster.start_server()
        assert server.wait_status("/readyz", 200, timeout=10.0), server.logs()
        assert server.status("/api/health") == 200
        assert server.proc.poll() is None  # same process, no restart
    finally:
        if server:
            server.stop()
        cluster.destroy()


@pytest.mark.parametrize("protocol", ["h11", "httptools"])  # each closes idle and busy connections its own way
def test_sigterm_drains_in_flight_requests_and_exits_zero(tmp_path, protocol) -> None:
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    server = ServerProcess(
        env={
            "DATABASE_URL": f"sqlite:///{db}",
            "HYPERPAGE_HTTP_PROTOCOL": protocol,
            "HYPERPAGE_DRAIN_SECONDS": "1",
            "HYPERPAGE_SHUTDOWN_GRACE_SECONDS": "8",
        },
        args=[sys.executable, "-m", "tests.apps.slow_app"],
    ).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200), server.logs()
        result: dict[str, object] = {}

        def slow_request() -> None:
            try:
                resp = httpx.get(server.base_url + "/test/slow?seconds=3", timeout=10)
                result["status"], result["body"] = resp.status_code, resp.json()
            except httpx.HTTPError as exc:
                result["error"] = repr(exc)

        worker = threading.Thread(target=slow_request)
        worker.start()
        time.sleep(0.5)
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert wait_until(lambda: server.status("/readyz") == 503, timeout=1.0), "readiness did not drop at once"
        assert server.status("/livez") == 200
        code = server.proc.wait(timeout=15)
        elapsed = time.monotonic() - sent
        worker.join(timeout=5)
    finally:
        server.stop()
    assert result.get("status") == 200, (result, server.logs())
    assert result["body"] == {"slept": 3.0}
    assert code == 0, server.logs()
    assert elapsed < 8.0, f"exited after {elapsed:.1f}s, beyond the 8 s grace period"


def test_metrics_pass_promtool(tmp_path) -> None:
    promtool = require_tool("promtool", hint="Debian package prometheus")
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    server = ServerProcess(env={"DATABASE_URL": f"sqlite:///{db}"}).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200), server.logs()
        for path in ("/livez", "/api/health", "/missing"):
            server.get(path)
        assert server.status("/api/metrics") == 404  # the public port has no metrics route
        text = httpx.get(server.metrics_url).text
    finally:
        server.stop()
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert 'hyperpage_http_requests_total{method="GET",route="/livez",status="200"} 1.0' in text


def test_several_workers_share_the_port_merge_metrics_and_drain(tmp_path) -> None:
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    server = ServerProcess(
        env={
            "DATABASE_URL": f"sqlite:///{db}",
            "HYPERPAGE_DRAIN_SECONDS": "1",
            "HYPERPAGE_SHUTDOWN_GRACE_SECONDS": "6",
        },
        args=[sys.executable, "-m", "hyperpage.cli", "serve", "--workers", "2"],
    )
    server.start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200, timeout=45), server.logs()
        with httpx.Client(base_url=server.base_url) as http:  # one keep-alive connection per request below
            for _ in range(20):
                assert httpx.get(server.base_url + "/livez").status_code == 200
            text = http.get(server.metrics_url).text  # one child answers with every child's counts
        line = 'hyperpage_http_requests_total{method="GET",route="/livez",status="200"} '
        assert float(next(x for x in text.splitlines() if x.startswith(line))[len(line) :]) == 20
        server.proc.send_signal(signal.SIGTERM)
        assert wait_until(lambda: server.status("/readyz") == 503, timeout=1.0)
        assert server.proc.wait(timeout=10) == 0, server.logs()
    finally:
        server.stop()
