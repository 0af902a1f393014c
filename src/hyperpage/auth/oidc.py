"""OpenID Connect sign-in with Authlib: Authorization Code + PKCE (S256), discovery, JWKS-checked ID token.

The provider's metadata comes from `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0);
Authlib checks the ID token's signature against the published JWKS (fetched again when an unknown key id
appears, so key rotation works), and its iss, aud, exp, iat and nonce claims (OpenID Connect Core 1.0 section
3.1.3.7). The state, nonce and PKCE verifier of a sign-in in progress live in a short-lived signed cookie.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from authlib.integrations.starlette_client import OAuth, OAuthError
from httpx import HTTPError
from joserfc.errors import JoseError

from hyperpage.config import Settings
from hyperpage.logging import get_logger

log = get_logger(__name__)

TRANSACTION_COOKIE = "hp_oidc"
TRANSACTION_MAX_AGE = 600  # seconds a user may spend on the provider's login page
ID_TOKEN_LEEWAY = 60  # seconds of clock skew tolerated on exp/iat


class SignInFailed(Exception):
    """The sign-in cannot complete; the message is safe to show the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str | None
    name: str | None
    groups: tuple[str, ...]


class OidcClient:
    """One registered Authlib client per app; metadata and keys are fetched on first use and cached."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        secret = settings.hyperpage_oidc_client_secret
        oauth = OAuth()
        self.app = oauth.register(
            "hyperpage",
            client_id=settings.hyperpage_oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=f"{settings.hyperpage_oidc_issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.hyperpage_oidc_scopes,
                "code_challenge_method": "S256",
                # a public client (no secret) authenticates with PKCE alone
                "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
                "timeout": 10.0,
            },
        )
        self.redirect_uri = f"{settings.hyperpage_public_url}/auth/callback"

    async def metadata(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = await self.app.load_server_metadata()
        except (HTTPError, ValueError) as exc:
            log.error("oidc_discovery_failed", error=type(exc).__name__)
            raise SignInFailed("the sign-in provider cannot be reached; try again shortly", 503) from None
        # Discovery 1.0 section 4.3: the issuer in the document must be exactly the one we were configured with
        if data.get("issuer", "").rstrip("/") != self.settings.hyperpage_oidc_issuer:
            self.app.server_metadata.clear()  # fetch again next time rather than trust it
            log.error("oidc_issuer_mismatch", configured=self.settings.hyperpage_oidc_issuer)
            raise SignInFailed("the sign-in provider's discovery document names another issuer", 502)
        return data

    async def begin(self) -> tuple[str, dict[str, str]]:
        """The provider URL to send the browser to, and the transaction to keep until it comes back."""
        await self.metadata()
        started = await self.app.create_authorization_url(self.redirect_uri, nonce=secrets.token_urlsafe(24))
        return started["url"], {
            "state": started["state"],
            "nonce": started["nonce"],
            "verifier": started["code_verifier"],
        }

    async def finish(self, *, code: str, transaction: dict[str, str]) -> Claims:
        """Redeem the code (with the PKCE verifier) and validate the ID token; SignInFailed on any problem."""
        await self.metadata()
        try:
            token = await self.app.fetch_access_token(
                redirect_uri=self.redirect_uri, code=code, code_verifier=transaction["verifier"]
            )
        except (OAuthError, HTTPError, ValueError) as exc:
            log.warning("oidc_token_exchange_failed", error=type(exc).__name__)
            raise SignInFailed("the sign-in provider refused the sign-in code; sign in again", 400) from None
        return await self.validate(token, nonce=transaction["nonce"])

    async def validate(self, token: dict[str, Any], *, nonce: str) -> Claims:
        """Check an ID token from the token endpoint: signature (JWKS), issuer, audience, expiry, nonce."""
        if "id_token" not in token:
            raise SignInFailed("the sign-in provider sent no ID token (is `openid` in the scopes?)", 502)
        try:
            claims = await self.app.parse_id_token(token, nonce=nonce, leeway=ID_TOKEN_LEEWAY)
        except (JoseError, ValueError, HTTPError) as exc:
            log.warning("oidc_id_token_refused", error=type(exc).__name__, reason=str(exc)[:200])
            raise SignInFailed("the ID token was refused (signature, issuer, audience, expiry or nonce)", 401) from None
        return _claims(claims, self.settings.hyperpage_oidc_groups_claim)

    async def logout_url(self) -> str | None:
        """RP-Initiated Logout 1.0: the provider's end_session_endpoint, when it publishes one."""
        try:
            data = await self.metadata()
        except SignInFailed:
            return None
        if not data.get("end_session_endpoint"):
            return None
        result = await self.app.create_logout_url(
            post_logout_redirect_uri=f"{self.settings.hyperpage_public_url}/auth/signed-out",
            client_id=self.settings.hyperpage_oidc_client_id,
        )
        return str(result["url"])


def _claims(claims: dict[str, Any], groups_claim: str) -> Claims:
    if claims.get("email_verified") is False:  # an unverified address must not pass a domain allow-list
        raise SignInFailed("your email address is not verified at the sign-in provider", 403)
    raw_groups = claims.get(groups_claim) or []
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    groups = tuple(str(g) for g in raw_groups if isinstance(g, str | int))[:200]
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return Claims(subject=str(claims["sub"]), email=email, name=name, groups=groups)


def encode_transaction(data: dict[str, str]) -> str:
    return orjson.dumps(data).decode()


def decode_transaction(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    keys = ("state", "nonce", "verifier", "next")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        return None
    return data
