"""`proxy` mode: the user header is believed from HYPERPAGE_TRUSTED_PROXIES peers only (the TCP peer, which a
client cannot choose, not X-Forwarded-For, which it can write), and the allow-lists and admin groups apply."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hyperpage.main import create_app
from tests.conftest import make_settings

PROXY = "10.0.0.5"
USER = {"X-Auth-Request-Email": "carol@example.com", "X-Auth-Request-Groups": "platform,hyperpage-admins"}


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[object]:
    app = create_app(
        make_settings(
            db_url,
            hyperpage_auth="proxy",
            hyperpage_trusted_proxies="10.0.0.0/29",
            hyperpage_auth_allowed_domains="example.com",
            hyperpage_auth_admin_groups="hyperpage-admins",
            hyperpage_scheduler=False,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


def _from(app: object, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 4180)), base_url="http://t")


async def test_the_trusted_proxy_names_the_user(app) -> None:
    async with _from(app, PROXY) as proxy:
        me = (await proxy.get("/api/v1/auth/me", headers=USER)).json()
        assert me == {
            "subject": "user:carol@example.com",
            "name": "carol@example.com",
            "email": "carol@example.com",
            "role": "admin",
            "via": "proxy",
            "groups": ["platform", "hyperpage-admins"],
        }
        assert (await proxy.get("/api/v1/reviews", headers=USER)).status_code == 200
        viewer = {**USER, "X-Auth-Request-Groups": "platform"}
        assert (await proxy.get("/api/v1/auth/me", headers=viewer)).json()["role"] == "viewer"
        assert (await proxy.get("/api/v1/reviews")).status_code == 401  # the proxy sent no user


async def test_a_spoofed_user_header_from_anyone_else_is_ignored(app) -> None:
    for peer in ("10.0.0.9", "192.0.2.44", "::1"):
        async with _from(app, peer) as client:
            # X-Forwarded-For naming the proxy does not help: only the socket's peer address counts
            resp = await client.get("/api/v1/reviews", headers={**USER, "X-Forwarded-For": PROXY})
            assert resp.status_code == 401, peer
            assert resp.headers["www-authenticate"] == 'Bearer realm="hyperpage"'
            assert (await client.get("/api/v1/auth/me", headers=USER)).status_code == 401


async def test_the_allow_list_refuses_other_domains(app) -> None:
    async with _from(app, PROXY) as proxy:
        resp = await proxy.get("/api/v1/reviews", headers={"X-Auth-Request-Email": "eve@elsewhere.test"})
        assert resp.status_code == 403 and "not in the email domains" in resp.json()["error"]["message"]


async def test_other_modes_never_read_the_proxy_header(db_url: str) -> None:
    app = create_app(
        make_settings(
            db_url, hyperpage_auth="token", hyperpage_trusted_proxies="10.0.0.0/29", hyperpage_scheduler=False
        )
    )
    async with app.router.lifespan_context(app), _from(app, PROXY) as proxy:
        assert (await proxy.get("/api/v1/reviews", headers=USER)).status_code == 401
