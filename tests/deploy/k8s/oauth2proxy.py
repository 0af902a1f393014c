"""What oauth2-proxy v7.15.3 makes of the arguments the manifests give it, written from its documentation.

oauth2-proxy cannot run here (no package in the reachable registries), so its behaviour is modelled from:
- the flag table, "Command Line Options" in docs/docs/configuration/overview.md at tag v7.15.3
  (https://oauth2-proxy.github.io/oauth2-proxy/configuration/overview): names, types, defaults;
- which headers reach the upstream: pkg/apis/options/legacy_options.go at v7.15.3, LegacyHeaders.getRequestHeaders
  (--pass-basic-auth or --pass-user-headers: X-Forwarded-User/-Email/-Groups/-Preferred-Username on the request)
  and getResponseHeaders (--set-xauthrequest: X-Auth-Request-* on the RESPONSE only);
- which client headers are removed first: pkg/middleware/headers.go, NewRequestHeaderInjector strips every
  header it injects unless PreserveRequestValue, which getRequestHeaders sets to !--skip-auth-strip-headers.
Nothing here is shared with the manifests: the tests feed the rendered arguments in.
"""

from __future__ import annotations

from dataclasses import dataclass


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The documented flags of v7.15.3 by type (overview.md); "string" includes the string|list ones.
_BOOL = _names("""
allow-query-semicolons auth-logging bearer-token-login-fallback cookie-httponly cookie-secure disable-keep-alives
display-htpasswd-form encode-state errors-to-info-log force-https force-json-errors gcp-healthchecks
insecure-oidc-allow-unverified-email insecure-oidc-skip-issuer-verification insecure-oidc-skip-nonce
logging-compress logging-local-time pass-access-token pass-authorization-header pass-basic-auth pass-host-header
pass-user-headers prefer-email-to-user proxy-websockets redis-insecure-skip-tls-verify redis-use-cluster
redis-use-sentinel relative-redirect-url request-logging reverse-proxy session-cookie-minimal
set-authorization-header set-basic-auth set-xauthrequest show-debug-on-error silence-ping-logging
skip-auth-preflight skip-auth-strip-headers skip-claims-from-profile-url skip-jwt-bearer-tokens skip-oidc-discovery
skip-provider-button ssl-insecure-skip-verify ssl-upstream-insecure-skip-verify standard-logging
use-system-trust-store
""")
_DURATION = _names("cookie-csrf-expire cookie-expire cookie-refresh flush-interval upstream-timeout")
_INT = _names(
    "cookie-csrf-per-request-limit logging-max-age logging-max-backups logging-max-size redis-connection-idle-timeout"
)
_STRING = _names("""
acr-values allowed-group api-route approval-prompt auth-logging-format authenticated-emails-file backend-logout-url
banner basic-auth-password client-id client-secret client-secret-file code-challenge-method cookie-csrf-samesite
cookie-domain cookie-name cookie-path cookie-samesite cookie-secret cookie-secret-file custom-sign-in-logo
custom-templates-dir email-domain exclude-logging-path extra-jwt-issuers footer htpasswd-file htpasswd-user-group
http-address https-address jwt-key jwt-key-file logging-filename login-url metrics-address metrics-secure-address
metrics-tls-cert-file metrics-tls-key-file oidc-audience-claim oidc-email-claim oidc-enabled-signing-alg
oidc-extra-audience oidc-groups-claim oidc-issuer-url oidc-jwks-url oidc-public-key-file ping-path ping-user-agent
profile-url prompt provider provider-ca-file provider-display-name proxy-prefix pubjwk-url ready-path
real-client-ip-header redeem-url redirect-url redis-ca-path redis-cluster-connection-urls redis-connection-url
redis-password redis-sentinel-connection-urls redis-sentinel-master-name redis-sentinel-password request-id-header
request-logging-format session-store-type signature-key skip-auth-regex skip-auth-route standard-logging-format
tls-cert-file tls-cipher-suite tls-key-file tls-min-version trusted-ip trusted-proxy-ip upstream validate-url
whitelist-domain
""")
# Documented defaults of the flags the model reads.
_DEFAULTS = {
    "pass-basic-auth": True,
    "pass-user-headers": True,
    "skip-auth-strip-headers": True,
    "set-xauthrequest": False,
    "pass-access-token": False,
    "pass-authorization-header": False,
    "reverse-proxy": False,
    "insecure-oidc-skip-nonce": True,
    "cookie-secure": True,
    "cookie-httponly": True,
    "ping-path": "/ping",
    "ready-path": "/ready",
    "proxy-prefix": "/oauth2",
    "http-address": "127.0.0.1:4180",
}
# legacy_options.go getPassUserHeaders + getPreferredUsernameHeader (preferEmailToUser false).
_USER_HEADERS = ("X-Forwarded-Groups", "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username")
# legacy_options.go getXAuthRequestHeaders: response headers.
_XAUTHREQUEST = (
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "X-Auth-Request-Preferred-Username",
    "X-Auth-Request-Groups",
)


@dataclass(frozen=True)
class Options:
    """Parsed command line: flag -> every value given (a list flag may repeat)."""

    values: dict[str, list[str]]

    def get(self, flag: str) -> str | bool | None:
        given = self.values.get(flag)
        if given:
            return _BOOLS[given[-1]] if flag in _BOOL else given[-1]
        return _DEFAULTS.get(flag)

    def all(self, flag: str) -> list[str]:
        return [part for value in self.values.get(flag, []) for part in value.split(",")]

    def upstream_request_headers(self) -> set[str]:
        """Header names oauth2-proxy sets on the request it passes upstream, from the session."""
        names: set[str] = set()
        if self.get("pass-basic-auth") or self.get("pass-user-headers"):
            names.update(_USER_HEADERS)
        if self.get("pass-basic-auth") and self.get("basic-auth-password"):
            names.add("Authorization")
        if self.get("pass-access-token"):
            names.add("X-Forwarded-Access-Token")
        if self.get("pass-authorization-header"):
            names.add("Authorization")
        return {name.lower() for name in names}

    def stripped_client_headers(self) -> set[str]:
        """Header names removed from the client's request before anything is injected."""
        return self.upstream_request_headers() if self.get("skip-auth-strip-headers") else set()

    def response_headers(self) -> set[str]:
        return {name.lower() for name in _XAUTHREQUEST} if self.get("set-xauthrequest") else set()


_BOOLS = {"true": True, "false": False}


def parse(args: list[str]) -> Options:
    """Parse `--flag=value` arguments; an unknown flag, a bool that is not true/false or a bare flag fails."""
    values: dict[str, list[str]] = {}
    for arg in args:
        name, sep, value = arg.removeprefix("--").partition("=")
        assert arg.startswith("--") and sep, f"{arg}: give every flag as --name=value"
        known = name in _BOOL | _DURATION | _INT | _STRING
        assert known, f"{arg}: oauth2-proxy v7.15.3 documents no flag --{name}"
        if name in _BOOL:
            assert value in _BOOLS, f"{arg}: a bool flag takes true or false"
        if name in _INT:
            assert value.isdigit(), f"{arg}: an int flag takes a number"
        values.setdefault(name, []).append(value)
    return Options(values)
