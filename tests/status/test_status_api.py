"""/api/v1/tools, /api/v1/sync, admin actions and the stale-connections gauge, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from hyperpage.main import create_app
from tests import factories as f
from tests.conftest import make_settings
from tests.metrics_port import scrape_metrics

TOKEN = "s3cret-admin-token-0123456789"


async def _seed(db_url: str) -> dict[str, int]:
    now = f.now()
    async with f.db_session(db_url) as s:
        fresh = await f.add_connection(s, tool="github", name="gh-fresh")
        stale = await f.add_connection(s, tool="gitlab", name="gl-stale")
        await f.add_sync_state(
            s,
            connection=fresh,
            resource="pull_requests",
            interval_seconds=300,
            last_success_at=now - timedelta(minutes=4),
        )
        job = await f.add_sync_state(
            s,
            connection=stale,
            resource="pipelines",
            interval_seconds=300,
            last_success_at=now - timedelta(minutes=11),
            last_error="GitLab answered 401: the token was refused",
            last_error_at=now - timedelta(minutes=1),
            consecutive_failures=3,
        )
        return {"fresh": fresh.id, "stale": stale.id, "job": job.id}


async def test_tools_report_freshness_errors_and_the_gauge(client, db_url) -> None:
    ids = await _seed(db_url)
    body = (await client.get("/api/v1/tools")).json()
    conns = {c["name"]: c for t in body["tools"] for c in t["connections"]}
    assert conns["gh-fresh"]["stale"] is False and conns["gh-fresh"]["last_error"] is None
    assert conns["gl-stale"]["stale"] is True
    assert conns["gl-stale"]["last_error"] == "GitLab answered 401: the token was refused"
    assert body["stale_connections"] == 1
    jobs = (await client.get("/api/v1/sync")).json()["jobs"]
    assert {j["id"] for j in jobs if j["stale"]} == {ids["job"]}
    assert "hyperpage_stale_connections 1.0" in await scrape_metrics(client.app)


async def test_admin_actions_refuse_callers_without_an_admin_identity(client, db_url) -> None:
    await _seed(db_url)
    # no bootstrap token configured: a bearer value that is not an API token is refused, not ignored
    resp = await client.post("/api/v1/sync/trigger", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["www-authenticate"]
    resp = await client.patch("/api/v1/tools/github", json={"enabled": False})  # anonymous (HYPERPAGE_AUTH=off)
    assert resp.status_code == 401 and resp.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture
async def admin_client(db_url: str):
    app = create_app(make_settings(db_url, hyperpage_admin_token=TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_admin_token_is_required_and_checked(admin_client, db_url) -> None:
    ids = await _seed(db_url)
    assert (await admin_client.post("/api/v1/sync/trigger")).status_code == 401
    wrong = await admin_client.post("/api/v1/sync/trigger", headers={"Authorization": "Bearer " + "x" * 29})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = f.now()
    done = await admin_client.post("/api/v1/sync/trigger", json={"connection": ids["stale"]}, headers=auth)
    assert done.status_code == 200 and done.json()["due_now"] == 1
    jobs = {j["id"]: j for j in (await admin_client.get("/api/v1/sync")).json()["jobs"]}
    assert jobs[ids["job"]]["next_run_at"] <= f.now().isoformat()
    assert jobs[ids["job"]]["next_run_at"] >= before.isoformat()
    assert (await admin_client.post("/api/v1/sync/trigger", json={"job": 99999}, headers=auth)).status_code == 404
    everything = await admin_client.post("/api/v1/sync/trigger", headers=auth)
    assert everything.json()["due_now"] == 2

    off = await admin_client.patch(
        "/api/v1/tools/gitlab", json={"enabled": False, "interval_seconds": 600}, headers=auth
    )
    assert off.status_code == 200 and off.json()["enabled"] is False and off.json()["interval_seconds"] == 600
    tools = {t["tool"]: t for t in (await admin_client.get("/api/v1/tools")).json()["tools"]}
    assert tools["gitlab"]["enabled"] is False and tools["gitlab"]["connections"][0]["enabled"] is False
    assert tools["gitlab"]["connections"][0]["interval_seconds"] == 600
    assert (await admin_client.patch("/api/v1/tools/svn", json={}, headers=auth)).status_code == 422
    bad = await admin_client.patch("/api/v1/tools/github", json={"interval_seconds": 1}, headers=auth)
    assert bad.status_code == 422 and "interval_seconds" in bad.json()["error"]["message"]
