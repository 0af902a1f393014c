"""The gate: admin routes refuse viewers before a body is read, the rate limit counts per identity, cached pages
go only to callers the gate let in, and anonymous /api/health says no more than its status outside development."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from hyperpage.auth.middleware import admin_only
from hyperpage.main import create_app
from tests.conftest import make_settings

BOOTSTRAP = "bootstrap-admin-token-for-tests-0123"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[object]:
    app = create_app(
        make_settings(
            db_url,
            hyperpage_auth="token",
            hyperpage_admin_token=BOOTSTRAP,
            hyperpage_scheduler=False,
            hyperpage_rate_limit_per_hour=5,
        )
    )
    async with app.router.lifespan_context(app):
        # PostgreSQL: until LISTEN has heard its probe the version is unknown and every request bypasses the cache
        for _ in range(200):
            if app.state.data_changes.version() is not None:
                break
            await asyncio.sleep(0.05)
        yield app


def _client(app: object, peer: str = "192.0.2.10") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 5000)), base_url="http://t")


async def _token(http: httpx.AsyncClient, name: str, role: str = "viewer") -> str:
    resp = await http.post("/api/v1/admin/tokens", json={"name": name, "role": role}, headers=bearer(BOOTSTRAP))
    assert resp.status_code == 201, resp.text
    return resp.json()["token"]


async def test_admin_routes_refuse_viewers_and_anonymous_before_reading_the_body(app) -> None:
    async with _client(app, "192.0.2.1") as admin, _client(app, "192.0.2.2") as other:
        viewer = await _token(admin, "viewer")
        spec = (await admin.get("/openapi.json", headers=bearer(BOOTSTRAP))).json()
        checked = []
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                declared = "role admin" in op["responses"].get("403", {}).get("description", "")
                assert admin_only(method.upper(), path) == declared, f"{method} {path}: rule and route disagree"
                if not declared:
                    continue
                url = path.replace("{tool}", "github").replace("{token_id}", "1")
                # a body that would be a 400/422 if it were read: the identity is checked first
                kwargs = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
                anonymous = await other.request(method, url, **kwargs)
                assert anonymous.status_code == 401, (method, path, anonymous.text)
                assert anonymous.headers["www-authenticate"].startswith("Bearer"), (method, path)
                as_viewer = await other.request(
                    method, url, content=b"{not json", headers={**bearer(viewer), "Content-Type": "application/json"}
                )
                assert as_viewer.status_code == 403, (method, path, as_viewer.text)
                assert 'error="insufficient_scope"' in as_viewer.headers["www-authenticate"]
                checked.append(f"{method.upper()} {path}")
        assert set(checked) >= {
            "POST /api/v1/sync/trigger",
            "PATCH /api/v1/tools/{tool}",
            "GET /api/v1/admin/tokens",
            "POST /api/v1/admin/tokens",
            "DELETE /api/v1/admin/tokens/{token_id}",
        }
        admin_token = await _token(admin, "ops", role="admin")
        ok = await other.post("/api/v1/sync/trigger", headers=bearer(admin_token))
        assert ok.status_code == 200, ok.text


async def test_the_rate_limit_counts_per_identity_then_per_address(app) -> None:
    async with _client(app, "192.0.2.1") as admin:
        first, second = await _token(admin, "a"), await _token(admin, "b")
    async with _client(app, "198.51.100.7") as shared:  # both tokens and an anonymous caller on one address
        for _ in range(5):
            assert (await shared.get("/api/v1/reviews", headers=bearer(first))).status_code == 200
        assert (await shared.get("/api/v1/reviews", headers=bearer(first))).status_code == 429
        resp = await shared.get("/api/v1/reviews", headers=bearer(second))
        assert resp.status_code == 200 and resp.headers["ratelimit-remaining"] == "4"  # its own budget
        for _ in range(5):  # no identity: counted by address, and bad credentials are throttled too
            assert (await shared.get("/api/v1/reviews", headers=bearer("hp_wrong"))).status_code == 401
        assert (await shared.get("/api/v1/reviews", headers=bearer("hp_wrong"))).status_code == 429


async def test_a_cached_page_is_never_replayed_to_a_caller_the_gate_refuses(app) -> None:
    async with _client(app) as http:
        token = await _token(http, "poller")
        first = await http.get("/api/v1/reviews?limit=7", headers=bearer(token))
        again = await http.get("/api/v1/reviews?limit=7", headers=bearer(token))
        assert first.status_code == again.status_code == 200
        assert len(app.state.response_cache) == 1  # the page is cached
        refused = await http.get("/api/v1/reviews?limit=7")
        assert refused.status_code == 401 and "items" not in refused.text
        assert (await http.get("/api/v1/reviews?limit=7", headers=bearer("hp_" + "y" * 43))).status_code == 401


async def test_anonymous_health_shows_only_the_status_outside_development(db_url: str) -> None:
    settings = make_settings(
        db_url,
        hyperpage_env="staging",
        hyperpage_auth="token",
        hyperpage_admin_token=BOOTSTRAP,
        hyperpage_scheduler=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as http:
        anonymous = (await http.get("/api/health")).json()
        detailed = (await http.get("/api/health", headers=bearer(BOOTSTRAP))).json()
    assert anonymous == {"status": "healthy"}
    assert detailed["status"] == "healthy" and "version" in detailed and "database" in detailed
