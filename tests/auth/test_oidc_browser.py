"""Sign-in through a real OpenID provider's own login page in Chromium: see data, sign out, be refused after.

The provider is npm `oidc-provider` (tests/oidc/provider.js) with PKCE required for every client; the portal is
a real `hyperpage serve` in `oidc` mode. The provider's built-in pages import a web font from the internet;
the browser may reach 127.0.0.1 only, so that request is cut off (and not asserted on).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from hyperpage.db import schema
from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, start_provider
from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.portal_server import seed
from tests.serverproc import ServerProcess
from tests.tooling import free_port, require_tool

SESSION_SECRET = "browser-test-session-secret-4f1c2b9e8d7a6c5b"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Provider]]:
    tmp = tmp_path_factory.mktemp("oidc-browser")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    provider = start_provider(tmp, public_url)
    db = f"sqlite:///{tmp / 'portal.db'}"
    schema.upgrade(db)
    asyncio.run(seed(db))
    server = ServerProcess(
        port=port,
        env={
            "DATABASE_URL": db,
            "HYPERPAGE_SCHEDULER": "false",
            "LOG_LEVEL": "INFO",
            "HYPERPAGE_AUTH": "oidc",
            "HYPERPAGE_PUBLIC_URL": public_url,
            "HYPERPAGE_SESSION_SECRET": SESSION_SECRET,
            "HYPERPAGE_OIDC_ISSUER": provider.issuer,
            "HYPERPAGE_OIDC_CLIENT_ID": CLIENT_ID,
            "HYPERPAGE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "HYPERPAGE_OIDC_SCOPES": "openid email profile groups",
            "HYPERPAGE_AUTH_ALLOWED_DOMAINS": "example.com",
            "HYPERPAGE_AUTH_ADMIN_GROUPS": "hyperpage-admins",
        },
    )
    server.start(tmp / "portal.log")
    try:
        assert server.wait_status("/readyz", 200), server.logs()
        yield server, provider
    finally:
        server.stop()
        provider.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = require_tool("chromium", hint="scripts/deps/40-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1:") else route.abort()
    )
    yield context.new_page()
    context.close()


def _sign_in(page, provider: Provider, login: str) -> None:
    """The provider's devInteractions pages: a login form (any password), then the consent prompt."""
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.locator("button[type=submit]").click()  # "Continue": grant the portal the requested scopes


def test_sign_in_see_data_sign_out_and_be_refused(portal, page) -> None:
    server, provider = portal
    page.goto(server.base_url + "/?q=login")
    assert page.url.startswith(provider.issuer), "an anonymous visit must be sent to the provider"
    _sign_in(page, provider, "alice")
    page.wait_for_url(server.base_url + "/?q=login")  # back where the visit started, now signed in
    assert page.get_by_role("heading", name="Code Reviews").is_visible()
    assert "Fix login redirect loop" in page.locator("#panel-reviews tbody").inner_text()
    assert page.locator("[data-identity]").inner_text() == "Alice Admin (admin)"  # admin through her group
    session = next(c for c in page.context.cookies() if c["name"] == "hp_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/"
    me = page.evaluate("fetch('/api/v1/auth/me').then(r => r.json())")
    assert me["email"] == "alice@example.com" and me["role"] == "admin" and me["via"] == "session"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "oidc-signed-in.png"))

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(re.escape(server.base_url) + r"/auth/signed-out(\?|$)"))
    assert page.get_by_role("heading", name="You are signed out").is_visible()
    assert not any(c["name"] == "hp_session" for c in page.context.cookies())

    page.goto(server.base_url + "/")
    assert page.url.startswith(provider.issuer + "/interaction/"), "after sign-out the portal must refuse"
    # a copy of the old cookie is worth nothing: the server-side session is gone
    stolen = {"hp_session": session["value"]}
    assert httpx.get(server.base_url + "/api/v1/reviews", cookies=stolen).status_code == 401
    again = httpx.get(server.base_url + "/", cookies=stolen, headers={"Accept": "text/html"})
    assert again.status_code == 303 and again.headers["location"] == "/auth/login?next=%2F"


def test_a_viewer_reads_data_but_is_refused_admin_routes(portal, page) -> None:
    server, provider = portal
    page.goto(server.base_url + "/")
    _sign_in(page, provider, "bob")
    page.wait_for_url(server.base_url + "/")
    assert page.locator("[data-identity]").inner_text() == "Bob Viewer"
    status = page.evaluate("fetch('/api/v1/reviews').then(r => r.status)")
    assert status == 200
    refused = page.evaluate("fetch('/api/v1/admin/tokens').then(r => r.status)")
    trigger = page.evaluate("fetch('/api/v1/sync/trigger', {method: 'POST'}).then(r => r.status)")
    assert (refused, trigger) == (403, 403)


def test_an_account_outside_the_allowed_domains_is_not_signed_in(portal, page) -> None:
    server, provider = portal
    page.goto(server.base_url + "/")
    _sign_in(page, provider, "mallory")
    page.wait_for_url(re.compile(re.escape(server.base_url) + "/auth/callback"))
    assert page.get_by_role("heading", name="Sign-in failed").is_visible()
    assert "not in the email domains or groups allowed" in page.locator("[role=alert]").inner_text()
    assert not any(c["name"] == "hp_session" for c in page.context.cookies())


def test_the_login_redirect_uses_pkce_and_the_public_url(portal) -> None:
    server, provider = portal
    resp = httpx.get(server.base_url + "/auth/login?next=//evil.test/", headers={"Host": "evil.test"})
    assert resp.status_code == 302
    location = httpx.URL(resp.headers["location"])
    assert str(location).startswith(provider.issuer + "/auth?")
    params = dict(location.params)
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == server.base_url + "/auth/callback"  # from HYPERPAGE_PUBLIC_URL, not Host
    assert params["state"] and params["nonce"] and params["response_type"] == "code"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/auth" in cookie


def test_a_callback_without_its_sign_in_cookie_is_refused(portal) -> None:
    server, _ = portal
    resp = httpx.get(server.base_url + "/auth/callback?code=abc&state=forged")
    assert resp.status_code == 400 and "sign in again" in resp.text
    assert "set-cookie" not in resp.headers


def test_sign_out_is_post_only_and_same_origin(portal) -> None:
    server, _ = portal
    assert httpx.get(server.base_url + "/auth/logout").status_code == 405
    cross = httpx.post(server.base_url + "/auth/logout", headers={"Origin": "https://evil.test"})
    assert cross.status_code == 403
