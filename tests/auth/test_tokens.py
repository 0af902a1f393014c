"""API tokens end to end through the app: made by an admin, shown once, stored as a hash, refused once revoked
or expired; the 401 answers follow RFC 6750 section 3 (`WWW-Authenticate: Bearer ...`)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text, update

from hyperpage.auth.models import ApiToken
from hyperpage.main import create_app
from tests import factories as f
from tests.conftest import make_settings

BOOTSTRAP = "bootstrap-admin-token-for-tests-0123"


@pytest.fixture
async def http(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(db_url, hyperpage_auth="token", hyperpage_admin_token=BOOTSTRAP, hyperpage_scheduler=False)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _create(http: httpx.AsyncClient, **body: object) -> dict:
    resp = await http.post("/api/v1/admin/tokens", json={"name": "grafana", **body}, headers=bearer(BOOTSTRAP))
    assert resp.status_code == 201, resp.text
    assert resp.headers["cache-control"] == "no-store"
    return resp.json()


async def test_a_token_is_shown_once_stored_as_its_hash_and_works(http: httpx.AsyncClient, db_url: str) -> None:
    created = await _create(http)
    secret = created["token"]
    assert secret.startswith("hp_") and len(secret) == 3 + 43 and created["status"] == "active"
    listed = (await http.get("/api/v1/admin/tokens", headers=bearer(BOOTSTRAP))).json()["tokens"]
    assert [t["name"] for t in listed] == ["grafana"] and secret not in str(listed)
    async with f.db_session(db_url) as s:
        stored = (await s.execute(text("SELECT token_hash, created_by FROM api_tokens"))).one()
    assert stored[0] == hashlib.sha256(secret.encode()).hexdigest() and stored[1] == "bootstrap-admin"
    resp = await http.get("/api/v1/reviews", headers=bearer(secret))
    assert resp.status_code == 200
    me = (await http.get("/api/v1/auth/me", headers=bearer(secret))).json()
    assert me == {
        "subject": f"token:{created['id']}",
        "name": "grafana",
        "email": None,
        "role": "viewer",
        "via": "token",
        "groups": [],
    }
    listed = (await http.get("/api/v1/admin/tokens", headers=bearer(BOOTSTRAP))).json()["tokens"]
    assert listed[0]["last_used_at"] is not None


async def test_a_revoked_token_is_refused_from_the_next_request(http: httpx.AsyncClient) -> None:
    created = await _create(http)
    assert (await http.get("/api/v1/reviews", headers=bearer(created["token"]))).status_code == 200
    revoke = await http.delete(f"/api/v1/admin/tokens/{created['id']}", headers=bearer(BOOTSTRAP))
    assert revoke.status_code == 204
    resp = await http.get("/api/v1/reviews", headers=bearer(created["token"]))
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"
    assert resp.headers["www-authenticate"] == (
        'Bearer realm="hyperpage", error="invalid_token", error_description="the API token is revoked"'
    )
    listed = (await http.get("/api/v1/admin/tokens", headers=bearer(BOOTSTRAP))).json()["tokens"]
    assert listed[0]["status"] == "revoked" and listed[0]["revoked_at"]
    assert (await http.delete("/api/v1/admin/tokens/999999", headers=bearer(BOOTSTRAP))).status_code == 404


async def test_an_expired_token_is_refused(http: httpx.AsyncClient, db_url: str) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    created = await _create(http, expires_at=soon.isoformat())
    assert (await http.get("/api/v1/reviews", headers=bearer(created["token"]))).status_code == 200
    async with f.db_session(db_url) as s:  # let a day pass
        await s.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await s.commit()
    resp = await http.get("/api/v1/reviews", headers=bearer(created["token"]))
    assert (
        resp.status_code == 401 and 'error_description="the API token is expired"' in resp.headers["www-authenticate"]
    )


async def test_no_credential_gets_a_bare_bearer_challenge(http: httpx.AsyncClient) -> None:
    for path in ("/api/v1/reviews", "/api/tools/enabled", "/", "/docs", "/openapi.json", "/setup", "/nowhere"):
        resp = await http.get(path)
        assert resp.status_code == 401, path
        assert resp.headers["www-authenticate"] == 'Bearer realm="hyperpage"', path
        assert resp.json()["error"]["code"] == "unauthorized", path
        assert resp.headers["x-content-type-options"] == "nosniff", path  # still behind the security headers
    for path in ("/livez", "/readyz", "/api/health", "/static/app.css"):
        assert (await http.get(path)).status_code == 200, path
    unknown = await http.get("/api/v1/reviews", headers=bearer("hp_" + "x" * 43))
    assert unknown.status_code == 401 and 'error="invalid_token"' in unknown.headers["www-authenticate"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a", "role": "owner"},
        {"name": "a", "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "a", "expires_at": "9999-12-31T23:59:59-01:00"},
        {"name": "a", "expires_at": "2030-01-01T00:00:00"},
    ],
)
async def test_bad_token_requests_are_422_in_the_error_shape(http: httpx.AsyncClient, body: dict) -> None:
    resp = await http.post("/api/v1/admin/tokens", json=body, headers=bearer(BOOTSTRAP))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_request"


async def test_an_int64_overflowing_id_is_a_4xx(http: httpx.AsyncClient) -> None:
    resp = await http.delete("/api/v1/admin/tokens/9223372036854775808", headers=bearer(BOOTSTRAP))
    assert resp.status_code == 422
