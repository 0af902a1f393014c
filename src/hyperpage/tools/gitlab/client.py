"""GitLab REST v4 client setup (gitlab.com or self-managed through GITLAB_WEB_URL).

API: https://docs.gitlab.com/api/rest/ ; rate-limit headers:
https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from hyperpage import __version__
from hyperpage.config import Settings
from hyperpage.tools.base import ConnectionSpec, split_list
from hyperpage.tools.connfile import forge_specs
from hyperpage.tools.http import ClientPool, QuotaSample, UpstreamClient, quota_from_headers

SLUG = "gitlab"
DEFAULT_WEB_URL = "https://gitlab.com"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    token = settings.gitlab_token if settings.enable_gitlab else None
    default = (settings.gitlab_web_url, token, settings.gitlab_projects) if token is not None else None

    def spec(
        name: str, web_url: str, token: SecretStr, scopes: tuple[str, ...], options: dict[str, Any]
    ) -> ConnectionSpec:
        return _spec(name, web_url, token, scopes, options, settings)

    return forge_specs(
        settings, SLUG, default, url_key="web_url", default_url=DEFAULT_WEB_URL, scopes_key="projects", spec=spec
    )


def _spec(
    name: str, web_url: str, token: SecretStr, scopes: tuple[str, ...], options: dict[str, Any], settings: Settings
) -> ConnectionSpec:
    """`options`: the insights' per-connection lists (a file entry without one takes the variable's value)."""
    production = options.get("production_environments", settings.gitlab_production_environments)
    labels = options.get("incident_labels", settings.gitlab_incident_labels)
    web_url = web_url.rstrip("/")
    return ConnectionSpec(
        tool=SLUG,
        name=name,
        base_url=f"{web_url}/api/v4",
        web_url=web_url,
        token=token,
        scopes=scopes,
        production_environments=tuple(e.lower() for e in split_list(production)),
        incident_labels=split_list(labels),
    )


def parse_quota(response: httpx.Response) -> list[QuotaSample]:
    return quota_from_headers(response, "ratelimit", "api")


def make_client(spec: ConnectionSpec, pool: ClientPool) -> UpstreamClient:
    token = spec.token.get_secret_value()
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"hyperpage/{__version__}",
    }
    return pool.get(
        tool=SLUG, connection=spec.name, base_url=spec.base_url, token=token, headers=headers, parse_quota=parse_quota
    )
