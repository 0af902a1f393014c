"""Turn a request's credentials into an Identity: bearer token, session cookie or trusted proxy header.

Order: an `Authorization: Bearer` credential first (the bootstrap admin token, then `hp_` API tokens), then the
mode's own way (session cookie for oidc, the user header from a trusted proxy for proxy). A credential that is
presented but wrong is refused, never quietly downgraded to anonymous: a script must learn its token is dead.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from hyperpage.api.clientinfo import Network, peer_address
from hyperpage.auth.identity import ANONYMOUS, BOOTSTRAP_ADMIN, Identity, Via, admission_problem, person
from hyperpage.auth.sessions import SESSION_COOKIE, identity_for_cookie
from hyperpage.auth.tokens import PREFIX, TokenRefused, identity_for_token
from hyperpage.config import AuthMode, Settings


@dataclass(frozen=True, slots=True)
class Resolution:
    identity: Identity | None
    refused: str | None = None  # a presented credential was wrong: 401 invalid_token
    forbidden: str | None = None  # signed in, but not admitted by the allow-lists: 403


def header(scope: Scope, name: bytes) -> str | None:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def cookie(scope: Scope, name: str) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # http.cookies raises CookieError on junk; a bad cookie header is no credential
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def _trusted_peer(scope: Scope, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(peer_address(scope))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def proxy_identity(scope: Scope, settings: Settings) -> Resolution | None:
    """The user named by the proxy's header, only when the TCP peer itself is a trusted proxy.

    The peer address is the socket's, not X-Forwarded-For: a client can write any header, but cannot
    choose the address it connects from.
    """
    if not _trusted_peer(scope, settings.trusted_proxy_networks):
        return None
    user = (header(scope, settings.hyperpage_auth_proxy_user_header.lower().encode()) or "").strip()
    if not user:
        return None
    raw_groups = header(scope, settings.hyperpage_auth_proxy_groups_header.lower().encode()) or ""
    groups = tuple(g.strip() for g in raw_groups.split(",") if g.strip())
    email = user if "@" in user else None
    problem = admission_problem(settings, email, groups)
    if problem is not None:
        return Resolution(None, forbidden=problem)
    return Resolution(person(settings, subject=f"user:{user}", name=user, email=email, groups=groups, via=Via.PROXY))


async def resolve(scope: Scope, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Resolution:
    mode = settings.auth_mode
    scheme, _, credential = (header(scope, b"authorization") or "").partition(" ")
    credential = credential.strip()
    via_proxy = proxy_identity(scope, settings) if mode is AuthMode.PROXY else None
    if scheme.lower() == "bearer" and credential:
        bootstrap = settings.hyperpage_admin_token
        # constant-time: the comparison must not reveal how many leading characters were right
        if bootstrap is not None and hmac.compare_digest(credential.encode(), bootstrap.get_secret_value().encode()):
            return Resolution(BOOTSTRAP_ADMIN)
        if credential.startswith(PREFIX):
            async with sessionmaker() as session:
                try:
                    return Resolution(await identity_for_token(session, secret=credential))
                except TokenRefused as exc:
                    return Resolution(None, refused=str(exc))
        if via_proxy is None:  # a proxy may forward its own bearer token next to the user header
            return Resolution(None, refused="not a Hyperpage API token")
    if via_proxy is not None:
        return via_proxy
    if mode is AuthMode.OIDC:
        value = cookie(scope, SESSION_COOKIE)
        if value:
            async with sessionmaker() as session:
                found = await identity_for_cookie(session, settings, value)
            if found is not None:
                return Resolution(found)
    if mode is AuthMode.OFF:
        return Resolution(ANONYMOUS)
    return Resolution(None)
