"""GitHub REST client setup: connections from settings, auth headers, quota headers.

GitHub REST API: https://docs.github.com/rest ; rate-limit headers:
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
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

SLUG = "github"
DEFAULT_API_URL = "https://api.github.com"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    return forge_specs(settings, SLUG, url_key="api_url", default_url=DEFAULT_API_URL, scopes_key="repos", spec=_spec)


def _spec(
    name: str, api_url: str, token: SecretStr, scopes: tuple[str, ...], options: dict[str, Any], settings: Settings
) -> ConnectionSpec:
    api_url = api_url.rstrip("/")
    # github.com's web pages live on github.com; GitHub Enterprise Server serves its API under /api/v3.
    web_url = "https://github.com" if api_url == DEFAULT_API_URL else api_url.removesuffix("/api/v3")
    lists = insight_lists(settings, SLUG, options, "production_environments", "incident_labels", "deployment_workflows")
    return ConnectionSpec(tool=SLUG, name=name, base_url=api_url, web_url=web_url, token=token, scopes=scopes, **lists)


def parse_quota(response: httpx.Response) -> list[QuotaSample]:
    return quota_from_headers(response, "x-ratelimit", response.headers.get("x-ratelimit-resource", "core"))


def make_client(spec: ConnectionSpec, pool: ClientPool) -> UpstreamClient:
    token = spec.token.get_secret_value()
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": f"hyperpage/{__version__}",
    }
    return pool.get(
        tool=SLUG, connection=spec.name, base_url=spec.base_url, token=token, headers=headers, parse_quota=parse_quota
    )
