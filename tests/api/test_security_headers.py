"""Security headers on every response; HSTS only over TLS (directly or via a trusted proxy)."""

from __future__ import annotations

import httpx

from hyperpage.main import create_app
from tests.conftest import make_settings


async def test_every_response_carries_the_security_headers(client) -> None:
    for path in ("/livez", "/api/v1/reviews", "/api/v1/reviews?limit=0", "/no/such/page", "/openapi.json"):
        resp = await client.get(path)
        csp = resp.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "http" not in csp, path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in resp.headers, path  # plain HTTP


async def test_hsts_over_tls_and_from_trusted_proxies_only(db_url) -> None:
    app = create_app(make_settings(db_url, hyperpage_trusted_proxies="10.0.0.1"))
    async with app.router.lifespan_context(app):
        tls = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://portal.test")
        async with tls:
            assert "max-age=" in (await tls.get("/livez")).headers["strict-transport-security"]
        for peer, expected in (("10.0.0.1", True), ("10.0.0.2", False)):
            transport = httpx.ASGITransport(app=app, client=(peer, 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
                resp = await http.get("/livez", headers={"X-Forwarded-Proto": "https"})
                assert ("strict-transport-security" in resp.headers) is expected, peer
