"""Probes, health, metrics and the error shape, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc

from hyperpage.db import schema
from hyperpage.lifecycle import lifecycle
from tests.conftest import make_settings
from tests.metrics_port import scrape_metrics


async def test_livez_touches_nothing_and_readyz_needs_db_at_head(client) -> None:
    live = await client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_health_reports_engine_version_and_schema(client, db_engine_name) -> None:
    resp = await client.get("/api/health")
    body = resp.json()
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    assert body["status"] == "healthy"
    assert body["database"]["engine"] == db_engine_name
    assert body["database"]["status"] == "up"
    assert body["database"]["latency_ms"] >= 0
    assert body["schema"] == {"revision": schema.head_revision(), "head": schema.head_revision(), "at_head": True}
    assert body["environment"] == "development"
    assert body["uptime_seconds"] >= 0


async def test_readyz_is_503_when_schema_is_behind(client, db_url) -> None:
    schema.downgrade(db_url, "base")
    resp = await client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "not_ready"
    assert "hyperpage db upgrade" in resp.json()["error"]["message"]
    health = await client.get("/api/health")
    assert health.status_code == 503 and health.json()["schema"]["at_head"] is False


async def test_readyz_is_503_while_draining_but_livez_stays_up(client) -> None:
    lifecycle.begin_drain()
    assert (await client.get("/readyz")).json()["error"]["message"] == "shutting down"
    assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/livez")).status_code == 200


async def test_unknown_path_uses_the_one_error_shape_and_echoes_request_id(client) -> None:
    resp = await client.get("/nope", headers={"X-Request-ID": "abc-123"})
    assert resp.status_code == 404
    assert resp.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    assert resp.headers["x-request-id"] == "abc-123"
    generated = await client.get("/livez", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route_template(client) -> None:
    def count(text: str, route: str, status: str) -> float:
        prefix = f'hyperpage_http_requests_total{{method="GET",route="{route}",status="{status}"}} '
        return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))

    before = await scrape_metrics(client.app)
    for _ in range(3):
        await client.get("/livez")
    await client.get("/does/not/exist/12345")
    text = await scrape_metrics(client.app)
    assert count(text, "/livez", "200") - count(before, "/livez", "200") == 3
    assert count(text, "unmatched", "404") - count(before, "unmatched", "404") == 1
    assert "/does/not/exist/12345" not in text  # raw paths never become label values
    assert "hyperpage_db_up 1.0" in text
    assert "hyperpage_build_info{python_version=" in text
    assert "hyperpage_db_pool_size" in text and "process_resident_memory_bytes" in text


async def test_framework_routes_are_labelled_by_their_path(client) -> None:
    assert (await client.get("/openapi.json")).status_code == 200
    text = await scrape_metrics(client.app)
    assert 'hyperpage_http_requests_total{method="GET",route="/openapi.json",status="200"}' in text


async def test_start_up_objects_are_frozen_while_serving(db_url) -> None:
    # a full collection walks only what requests made since the start (main.py's lifespan), not the ~170,000
    # objects the start made; they are collectable again once the app stops
    from hyperpage.main import create_app

    app = create_app(make_settings(db_url))
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
