"""Credentials inside configured URLs (`https://user:pass@host`, `https://token@host`) never reach a response,
the database or the log of a real server whose sync fails against those URLs."""

from __future__ import annotations

import sqlite3

from hyperpage.config import load_settings
from hyperpage.db import schema
from hyperpage.tools.registry import configured_connections
from tests.serverproc import ServerProcess, wait_until
from tests.tooling import free_port

SECRETS = ("ghpass-s3cr3t", "gltoken-s3cr3t", "jirapass-s3cr3t", "miniopass-s3cr3t")


def _env(port: int) -> dict[str, str]:
    # a closed local port: every sync attempt fails at once, and its error is recorded and logged
    return {
        "ENABLE_GITHUB": "true",
        "GITHUB_TOKEN": "ghp_realistic_token_value_0123",
        "GITHUB_API_URL": f"http://ghuser:ghpass-s3cr3t@127.0.0.1:{port}/api/v3",
        "ENABLE_GITLAB": "true",
        "GITLAB_TOKEN": "glpat-realistic-token-0123",
        "GITLAB_WEB_URL": f"http://gltoken-s3cr3t@127.0.0.1:{port}",
        "ENABLE_JIRA": "true",
        "JIRA_API_TOKEN": "jira-realistic-token-0123",
        "JIRA_EMAIL": "bot@example.com",
        "JIRA_DEPLOYMENT": "cloud",
        "JIRA_WEB_URL": f"http://jirauser:jirapass-s3cr3t@127.0.0.1:{port}",
        "HYPERPAGE_BACKUP_S3_ENDPOINT_URL": "https://minio:miniopass-s3cr3t@s3.example.com",
        "SYNC_MAX_RETRIES": "0",
        "SYNC_TICK_SECONDS": "0.5",
    }


def test_connection_specs_keep_no_credentials_in_their_links() -> None:
    settings = load_settings(**{k.lower(): v for k, v in _env(free_port()).items()})
    for spec in configured_connections(settings):
        assert "@" not in spec.web_url and not any(s in spec.web_url for s in SECRETS), spec.web_url


def test_no_response_row_or_log_line_shows_url_credentials(tmp_path) -> None:
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    env = {"DATABASE_URL": f"sqlite:///{db}", "HYPERPAGE_SCHEDULER": "true", "LOG_LEVEL": "DEBUG", **_env(free_port())}
    server = ServerProcess(env=env).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200, timeout=45), server.logs()

        def failed_once() -> bool:
            resp = server.get("/api/v1/sync")
            return resp is not None and any(job["last_error"] for job in resp.json()["jobs"])

        assert wait_until(failed_once, timeout=30), server.logs()[-3000:]
        bodies = {
            path: server.get(path).text
            for path in (
                "/api/v1/tools",
                "/api/v1/sync",
                "/api/health",
                "/api/tools/enabled",
                "/",
                "/setup",
                "/openapi.json",
                "/api/v1/reviews",
                "/api/v1/issues",
                "/api/v1/rate-limits",
                "/api/metrics",
            )
        }
    finally:
        server.stop()
    tools = bodies["/api/v1/tools"]
    assert "127.0.0.1" in tools  # the URLs are shown, without their user info
    for path, body in bodies.items():
        for secret in (*SECRETS, "ghuser", "jirauser"):
            assert secret not in body, (path, secret)
    logs = server.logs()
    assert "127.0.0.1" in logs
    for secret in SECRETS:
        assert secret not in logs, secret
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    for secret in SECRETS:
        assert secret not in dump, secret
