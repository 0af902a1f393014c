"""ID tokens checked against the real provider's discovery document and JWKS: only a genuine, fresh token for
this client and this sign-in passes (OpenID Connect Core 1.0 section 3.1.3.7).

The tokens are crafted here with joserfc (test code only): with the provider's own key, so that expiry,
audience or nonce is the only thing wrong, and with a key the provider never published.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from hyperpage.auth.oidc import OidcClient, SignInFailed
from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, start_provider
from tests.conftest import make_settings

NONCE = "nonce-0f9e8d7c6b5a"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    started = start_provider(tmp_path_factory.mktemp("oidc"), "http://127.0.0.1:9")
    yield started
    started.stop()


@pytest.fixture
def client(provider: Provider, tmp_path: Path) -> OidcClient:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'x.db'}",
        hyperpage_auth="oidc",
        hyperpage_public_url="http://127.0.0.1:9",
        hyperpage_session_secret="s" * 40,
        hyperpage_oidc_issuer=provider.issuer,
        hyperpage_oidc_client_id=CLIENT_ID,
        hyperpage_oidc_client_secret=CLIENT_SECRET,
    )
    return OidcClient(settings)


def _token(provider: Provider, key: RSAKey, **changes: object) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "alice@example.com",
        "groups": ["platform"],
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return {"id_token": jwt.encode({"alg": "RS256", "kid": "test-signing-key"}, claims, key), "access_token": "opaque"}


async def test_a_genuine_token_passes_and_yields_its_claims(provider: Provider, client: OidcClient) -> None:
    claims = await client.validate(_token(provider, provider.key), nonce=NONCE)
    assert (claims.subject, claims.email, claims.groups) == ("alice", "alice@example.com", ("platform",))


async def test_an_expired_token_is_refused(provider: Provider, client: OidcClient) -> None:
    past = int(time.time()) - 3600
    with pytest.raises(SignInFailed) as refused:
        await client.validate(_token(provider, provider.key, iat=past - 300, exp=past), nonce=NONCE)
    assert refused.value.status == 401


async def test_a_token_signed_with_a_key_the_provider_did_not_publish_is_refused(
    provider: Provider, client: OidcClient
) -> None:
    # same key id as the published key, different key material: only the signature is wrong
    impostor = RSAKey.generate_key(2048, parameters={"kid": "test-signing-key", "alg": "RS256"})
    with pytest.raises(SignInFailed):
        await client.validate(_token(provider, impostor), nonce=NONCE)


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-client"},
        {"iss": "http://127.0.0.1:1"},
        {"nonce": "replayed-from-another-sign-in"},
        {"nonce": None},
    ],
    ids=["audience", "issuer", "nonce", "no-nonce"],
)
async def test_a_token_for_another_client_issuer_or_sign_in_is_refused(
    provider: Provider, client: OidcClient, changes: dict
) -> None:
    with pytest.raises(SignInFailed):
        await client.validate(_token(provider, provider.key, **changes), nonce=NONCE)


async def test_an_unsigned_token_is_refused(provider: Provider, client: OidcClient) -> None:
    import base64
    import json

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    unsigned = (
        part({"alg": "none"})
        + "."
        + part({"iss": provider.issuer, "sub": "alice", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": NONCE})
        + "."
    )
    with pytest.raises(SignInFailed):
        await client.validate({"id_token": unsigned, "access_token": "opaque"}, nonce=NONCE)


async def test_an_unverified_email_is_refused(provider: Provider, client: OidcClient) -> None:
    with pytest.raises(SignInFailed) as refused:
        await client.validate(_token(provider, provider.key, email_verified=False), nonce=NONCE)
    assert refused.value.status == 403
