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
from hyperpage.tools.base import ConnectionSpec
from hyperpage.tools.connfile import forge_specs, insight_lists
from hyperpage.tools.http import ClientPool, QuotaSample, UpstreamClient, quota_from_headers

SLUG = "gitlab"
DEFAULT_WEB_URL = "https://gitlab.com"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    return forge_specs(
        settings, SLUG, url_key="web_url", default_url=DEFAULT_WEB_URL, scopes_key="projects", spec=_spec
    )


def _spec(
    name: str, web_url: str, token: SecretStr, scopes: tuple[str, ...], options: dict[str, Any], settings: Settings
) -> ConnectionSpec:
    web_url = web_url.rstrip("/")
    lists = insight_lists(settings, SLUG, options, "production_environments", "incident_labels")
    return ConnectionSpec(
        tool=SLUG, name=name, base_url=f"{web_url}/api/v4", web_url=web_url, token=token, scopes=scopes, **lists
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
