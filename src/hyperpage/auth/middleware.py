"""Two pure-ASGI middlewares around the rate limiter: resolve who is calling, then let them in or not.

    IdentityMiddleware -> RateLimitMiddleware -> AuthGateMiddleware -> ResponseCacheMiddleware -> app

The identity is resolved first so the rate limiter can count per identity (scope["state"]["identity"]); the
gate runs after the limiter so floods of bad credentials are throttled like any client; the response cache is
inside the gate, so a cached page is only ever replayed to a caller the gate let through. Admin routes are
checked here too (admin_only), before the app reads a request body.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperpage.auth.identity import Identity
from hyperpage.auth.resolve import Resolution, header, resolve
from hyperpage.config import AuthMode, Settings
from hyperpage.errors import error_body
from hyperpage.logging import get_logger

log = get_logger(__name__)

# Everything else needs an identity (default deny): probes, the sign-in flow itself and static files do not.
OPEN_PATHS = frozenset(
    {
        "/livez",
        "/readyz",
        "/api/health",
        "/favicon.ico",
        "/auth/login",
        "/auth/callback",
        "/auth/logout",
        "/auth/signed-out",
    }
)
OPEN_PREFIXES = ("/static/",)
NO_IDENTITY_PATHS = frozenset({"/livez", "/readyz", "/favicon.ico"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REALM = 'Bearer realm="hyperpage"'


def identity_of(scope: Scope) -> Identity | None:
    identity: Identity | None = scope.get("state", {}).get("identity")
    return identity


class IdentityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NO_IDENTITY_PATHS or scope["path"].startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)  # probes and static files: no database look-up per request
            return
        try:
            resolution = await resolve(scope, self.settings, scope["app"].state.sessionmaker)
        except (SQLAlchemyError, OSError) as exc:  # the database holds tokens and sessions
            log.warning("auth_store_unavailable", error=type(exc).__name__)
            if _is_open(scope["path"]):
                resolution = Resolution(None)
            else:
                await _json(
                    send,
                    503,
                    "service_unavailable",
                    "cannot check credentials: the database is unavailable; retry shortly",
                    [(b"retry-after", b"5")],
                )
                return
        state = scope.setdefault("state", {})
        state["identity"] = resolution.identity
        state["auth_resolution"] = resolution
        await self.app(scope, receive, send)


class AuthGateMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        resolution: Resolution = scope.get("state", {}).get("auth_resolution") or Resolution(None)
        identity = resolution.identity
        if resolution.refused:
            await _json(
                send,
                401,
                "unauthorized",
                f"{resolution.refused}; send a valid token",
                [(b"www-authenticate", _challenge("invalid_token", resolution.refused))],
            )
            return
        if resolution.forbidden:
            await _json(send, 403, "forbidden", resolution.forbidden)
            return
        if identity is None:
            await self._sign_in_first(scope, send)
            return
        if admin_only(scope["method"], scope["path"]) and not identity.is_admin:
            if not identity.authenticated:
                await _json(
                    send,
                    401,
                    "unauthorized",
                    "admin action: send `Authorization: Bearer <admin API token>`",
                    [(b"www-authenticate", REALM.encode())],
                )
            else:
                await _json(
                    send,
                    403,
                    "forbidden",
                    "admin action: your role is viewer",
                    [(b"www-authenticate", _challenge("insufficient_scope", "role admin required"))],
                )
            return
        if identity.via == "session" and scope["method"] not in SAFE_METHODS and not self._same_origin(scope):
            await _json(send, 403, "forbidden", "cross-site request refused (Origin does not match this portal)")
            return
        await self.app(scope, receive, send)

    async def _sign_in_first(self, scope: Scope, send: Send) -> None:
        path = scope["path"]
        wants_page = (
            scope["method"] in ("GET", "HEAD")
            and not path.startswith("/api/")
            and path != "/openapi.json"
            and "text/html" in (header(scope, b"accept") or "")
        )
        if self.settings.auth_mode is AuthMode.OIDC and wants_page:
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            # relative: an absolute URL would have to come from the Host header, which the client writes
            location = "/auth/login?next=" + quote(target, safe="")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode()),
                        (b"cache-control", b"no-store"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        how = {
            AuthMode.OIDC: "sign in at /auth/login or send `Authorization: Bearer <API token>`",
            AuthMode.PROXY: "sign in through the portal's proxy or send `Authorization: Bearer <API token>`",
        }
        await _json(
            send,
            401,
            "unauthorized",
            "authentication required: " + how.get(self.settings.auth_mode, "send `Authorization: Bearer <API token>`"),
            [(b"www-authenticate", REALM.encode())],
        )

    def _same_origin(self, scope: Scope) -> bool:
        """Cookie-authenticated writes must come from our own pages (SameSite=Lax first, this second)."""
        site = header(scope, b"sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = header(scope, b"origin")
        return origin is None or origin == self.settings.public_origin


def admin_only(method: str, path: str) -> bool:
    """The API's rule: every write, and everything under /api/v1/admin/, is for role admin.

    Decided from method and path so it holds before routing, before any body is read; each such route also
    declares AdminDep (tests/auth/test_roles.py walks the OpenAPI document to keep the two in step).
    """
    return path.startswith("/api/") and (method not in SAFE_METHODS or path.startswith("/api/v1/admin/"))


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def _challenge(error: str, description: str) -> bytes:
    # RFC 6750 section 3: quoted-string values; strip the characters a quoted-string cannot carry
    clean = description.replace("\\", "").replace('"', "'")
    return f'{REALM}, error="{error}", error_description="{clean}"'.encode("latin-1", "replace")


async def _json(
    send: Send, status: int, code: str, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(error_body(code, message))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
