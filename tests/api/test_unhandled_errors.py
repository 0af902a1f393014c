"""A 500 in a real uvicorn server, and a database outage, as a client over a keep-alive connection sees them.

uvicorn closes the connection when the app raises after starting a response
(uvicorn/protocols/http/h11_impl.py, RequestResponseCycle.run_asgi: `self.transport.close()`), which is what
Starlette's ServerErrorMiddleware did: it sends its 500 and re-raises. With debug on it also answered with
the traceback. The checks below talk raw HTTP/1.1 through http.client on one socket, so a reset shows.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hyperpage.db import schema
from tests.apps.failing_app import SECRET_DETAIL
from tests.pg import PgCluster
from tests.serverproc import ServerProcess, unprivileged, wait_until

FAILING_APP = [sys.executable, "-m", "tests.apps.failing_app"]
DATA_ROUTES = (
    "/api/v1/reviews",
    "/api/v1/pipelines",
    "/api/v1/issues",
    "/api/v1/rate-limits",
    "/api/v1/tools",
    "/api/v1/sync",
    "/api/tools/enabled",
    "/api/rate-limit/github",
    "/",
)


def _get(conn: http.client.HTTPConnection, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    return resp, resp.read()


def _assert_error_shape(resp: http.client.HTTPResponse, body: bytes, status: int, code: str) -> dict:
    assert resp.status == status, body[:500]
    assert resp.getheader("content-type") == "application/json"
    payload = json.loads(body)
    assert payload["error"]["code"] == code
    # every response keeps the security headers (api/security.py) and the request id (middleware.py)
    assert "default-src 'self'" in (resp.getheader("content-security-policy") or "")
    assert resp.getheader("x-content-type-options") == "nosniff"
    assert resp.getheader("x-request-id")
    return payload


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.create_database()
    url = pg_cluster.url(name)
    schema.upgrade(url)
    yield url
    pg_cluster.drop_database(name)


@pytest.mark.parametrize("profile", ["development", "staging", "production"])
def test_a_500_keeps_headers_request_id_route_metrics_and_the_connection(profile, tmp_path, request) -> None:
    if profile == "production":  # production refuses SQLite
        db = request.getfixturevalue("pg_database")
    else:
        db = f"sqlite:///{tmp_path / 'h.db'}"
        schema.upgrade(db)
    env = {"DATABASE_URL": db, "HYPERPAGE_ENV": profile, "HYPERPAGE_SCHEDULER": "false", "HYPERPAGE_HOST": "127.0.0.1"}
    auth: dict[str, str] = {}
    if profile != "development":  # staging and production need a sign-in mode and an identity (docs/auth.md)
        env |= {"HYPERPAGE_AUTH": "token", "HYPERPAGE_ADMIN_TOKEN": "unhandled-errors-bootstrap-admin"}
        auth = {"Authorization": "Bearer unhandled-errors-bootstrap-admin"}
    server = ServerProcess(env=env, args=FAILING_APP).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200, timeout=45), server.logs()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        resp, body = _get(conn, "/test/boom", **{"X-Request-ID": "boom-1"}, **auth)
        payload = _assert_error_shape(resp, body, 500, "internal_error")
        assert resp.getheader("x-request-id") == "boom-1" and "boom-1" in payload["error"]["message"]
        assert b"Traceback" not in body and SECRET_DETAIL.encode() not in body and b"RuntimeError" not in body
        assert (resp.getheader("connection") or "").lower() != "close"
        socket_before = conn.sock
        again, _ = _get(conn, "/livez")  # the same keep-alive connection still serves
        assert again.status == 200 and conn.sock is socket_before
        assert _get(conn, "/livez")[0].status == 200 and conn.sock is socket_before
        text = httpx.get(server.metrics_url, timeout=5).text  # the metrics listener (HYPERPAGE_METRICS_PORT)
        assert 'hyperpage_http_requests_total{method="GET",route="/test/boom",status="500"} 1.0' in text
        conn.close()
    finally:
        server.stop()
    logs = server.logs()
    assert "unhandled_error" in logs and SECRET_DETAIL in logs and "Traceback" in logs  # the operator sees it


def test_postgresql_outage_gives_503_with_retry_after_and_recovers(tmp_path) -> None:
    cluster = PgCluster.start()
    server = None
    try:
        url = cluster.url("postgres")
        schema.upgrade(url)
        server = ServerProcess(env={"DATABASE_URL": url, "HYPERPAGE_SCHEDULER": "false"}).start(tmp_path / "s.log")
        assert server.wait_status("/readyz", 200, timeout=45), server.logs()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for path in DATA_ROUTES:
            assert _get(conn, path)[0].status == 200, path
        cluster.stop_server()
        for path in DATA_ROUTES:
            resp, body = _get(conn, path)
            payload = _assert_error_shape(resp, body, 503, "database_unavailable")
            assert int(resp.getheader("retry-after")) > 0, path
            assert "retry" in payload["error"]["message"]
        assert _get(conn, "/livez")[0].status == 200
        cluster.start_server()
        assert wait_until(lambda: server.status("/api/v1/reviews") == 200, timeout=10), server.logs()
    finally:
        if server:
            server.stop()
        cluster.destroy()
    assert "unhandled_error" not in server.logs()  # an outage is not a bug: warning, no traceback


def test_an_unreadable_sqlite_file_gives_503_with_retry_after(tmp_path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="hyperpage-unreadable-"))
    try:
        shared.chmod(0o777)  # the server runs as an unprivileged user (root reads any file)
        db = shared / "h.db"
        schema.upgrade(f"sqlite:///{db}")
        db.chmod(0o000)
        server = ServerProcess(env={"DATABASE_URL": f"sqlite:///{db}", "HYPERPAGE_SCHEDULER": "false"})
        server.args = unprivileged(server.args)
        server.start(tmp_path / "s.log")
        try:
            assert server.wait_status("/livez", 200, timeout=45), server.logs()
            assert os.access(db, os.R_OK) is (os.geteuid() == 0)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            for path in DATA_ROUTES:
                resp, body = _get(conn, path)
                _assert_error_shape(resp, body, 503, "database_unavailable")
                assert int(resp.getheader("retry-after")) > 0
            assert _get(conn, "/readyz")[0].status == 503
        finally:
            server.stop()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
