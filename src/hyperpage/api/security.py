"""Security headers on every response (API, pages, errors, static files)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperpage.api.clientinfo import is_tls
from hyperpage.config import AuthMode, Settings
from hyperpage.middleware import HttpMiddleware

# No inline script or style anywhere: scripts and CSS are files under /static, so 'self' is enough.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"

STATIC_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # filter state in our URLs must not leak to upstream sites
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app)
        self.trusted = settings.trusted_proxy_networks
        self.static = list(STATIC_HEADERS)
        if settings.auth_mode is AuthMode.OIDC and settings.hyperpage_oidc_issuer:
            # the sign-out form redirects to the provider's end_session_endpoint, and Chromium applies
            # form-action to the redirects that follow a form submission
            issuer = urlsplit(settings.hyperpage_oidc_issuer)
            csp = CSP.replace("form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}")
            self.static[0] = (b"content-security-policy", csp.encode())

        # both header sets built once, not per request
        self.plain = tuple(self.static)
        self.tls = (*self.static, (b"strict-transport-security", HSTS))

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HSTS over plain HTTP is ignored by browsers and misleading
        extra = self.tls if is_tls(scope, self.trusted) else self.plain

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                present = {name.lower() for name, _ in headers}
                message["headers"] = [*headers, *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
