"""No token in logs, errors or API answers; sync metrics and DB-derived gauges on /metrics."""

from __future__ import annotations

import httpx
import pytest

from hyperpage.logging import configure_logging
from hyperpage.main import create_app
from hyperpage.sync.models import SyncRun, SyncState
from tests.conftest import make_settings
from tests.metrics_port import scrape_metrics
from tests.sync.harness import harness
from tests.tools.mock_github import MockGitHub

TOKEN = "ghp_Secret7Token8Value9ShouldNeverLeak"


def _http(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


SETTINGS = {"enable_github": True, "github_token": TOKEN, "github_repos": "acme/web,acme/api"}


async def test_tokens_never_reach_logs_errors_or_responses(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(make_settings(db_url, **SETTINGS))
    seen_auth: list[str] = []
    mock = MockGitHub({"acme/web": 3, "acme/api": 3})

    def echo_token(request: httpx.Request) -> httpx.Response | None:
        seen_auth.append(request.headers["authorization"])
        if request.url.path.endswith("/api/pulls"):  # an upstream that echoes the credential back
            return httpx.Response(401, json={"message": f"Bad credentials: {request.headers['authorization']}"})
        if request.url.path.endswith("/web/issues"):
            return httpx.Response(500, text=f"stack trace with token={TOKEN}")
        return None

    mock.faults = [echo_token] * 100
    async with harness(db_url, mock.transport, **SETTINGS) as h:
        reports = await h.scheduler.run_cycle(tool="github")
        assert any(not r.ok for r in reports)
        assert f"Bearer {TOKEN}" in seen_auth  # the token was really used
        stored = [s.last_error or "" for s in await h.all(SyncState)]
        stored += [r.error or "" for r in await h.all(SyncRun)]
        assert any("Bad credentials" in e for e in stored) and any("500" in e for e in stored)
        assert not any(TOKEN in e for e in stored)
        assert not any(TOKEN in (r.error or "") for r in reports)

    app = create_app(make_settings(db_url, hyperpage_scheduler=False, **SETTINGS))
    async with app.router.lifespan_context(app), _http(app) as http:
        bodies = [(await http.get(path)).text for path in ("/api/health", "/readyz")]
        bodies.append(await scrape_metrics(app))
    assert bodies and not any(TOKEN in body for body in bodies)
    captured = capsys.readouterr()
    assert "sync_run" in captured.err and "Bad credentials" in captured.err
    assert TOKEN not in captured.err and TOKEN not in captured.out


async def test_metrics_expose_sync_counters_and_db_gauges(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 3, "acme/api": 2})
    async with harness(db_url, mock.transport, **SETTINGS) as h:
        await h.scheduler.run_cycle(tool="github")
        await h.scheduler.run_cycle(tool="github")
    app = create_app(make_settings(db_url, hyperpage_scheduler=False, **SETTINGS))
    async with app.router.lifespan_context(app):
        text = await scrape_metrics(app)
    for line in (
        'hyperpage_upstream_requests_total{resource="pull_requests",status_class="2xx",tool="github"}',
        'hyperpage_upstream_not_modified_total{resource="pull_requests",tool="github"}',
        'hyperpage_sync_runs_total{outcome="success",resource="pull_requests",tool="github"}',
        'hyperpage_sync_run_duration_seconds_count{resource="pull_requests",tool="github"}',
        'hyperpage_sync_items_upserted_total{resource="pull_requests",tool="github"}',
        'hyperpage_sync_last_success_timestamp_seconds{connection="default",resource="pull_requests",tool="github"}',
        'hyperpage_sync_interval_seconds{connection="default",resource="pull_requests",tool="github"} 120.0',
        'hyperpage_rate_limit_limit{connection="default",resource="core",tool="github"} 5000.0',
        'hyperpage_rate_limit_remaining{connection="default",resource="core",tool="github"}',
        'hyperpage_rate_limit_reset_timestamp_seconds{connection="default",resource="core",tool="github"}',
        'hyperpage_circuit_breaker_open{connection="default",tool="github"} 0.0',
    ):
        assert line in text, line


async def test_a_job_that_never_succeeded_reports_last_success_zero(db_url: str) -> None:
    mock = MockGitHub({"acme/web": 1})
    async with harness(db_url, mock.transport, **SETTINGS) as h:
        await h.scheduler.prepare()  # jobs exist, none has run
    app = create_app(make_settings(db_url, hyperpage_scheduler=False, **SETTINGS))
    async with app.router.lifespan_context(app):
        text = await scrape_metrics(app)
    assert (
        'hyperpage_sync_last_success_timestamp_seconds{connection="default",resource="repositories",tool="github"} 0.0'
    ) in text
