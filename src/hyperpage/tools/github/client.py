"""GitHub REST client setup: connections from settings, auth headers, quota headers.

GitHub REST API: https://docs.github.com/rest ; rate-limit headers:
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from __future__ import annotations

from typing import Any

import httpx

from hyperpage import __version__
from hyperpage.config import Settings
from hyperpage.tools.base import ConnectionSpec, split_list
from hyperpage.tools.connfile import entry_token, file_entries
from hyperpage.tools.http import ClientPool, QuotaSample, UpstreamClient, header_int, parse_reset

SLUG = "github"
DEFAULT_API_URL = "https://api.github.com"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    specs = []
    if settings.enable_github and settings.github_token is not None:
        specs.append(
            _spec(
                "default",
                settings.github_api_url,
                settings.github_token.get_secret_value(),
                split_list(settings.github_repos),
                {},
                settings,
            )
        )
    for entry in file_entries(settings, SLUG):
        token = entry_token(entry).get_secret_value()
        specs.append(
            _spec(
                str(entry["name"]),
                str(entry.get("api_url") or DEFAULT_API_URL),
                token,
                split_list(entry.get("repos")),
                entry,
                settings,
            )
        )
    return specs


def _spec(
    name: str, api_url: str, token: str, scopes: tuple[str, ...], options: dict[str, Any], settings: Settings
) -> ConnectionSpec:
    """`options`: the insights' per-connection lists (a file entry without one takes the variable's value)."""
    from pydantic import SecretStr

    production = options.get("production_environments", settings.github_production_environments)
    labels = options.get("incident_labels", settings.github_incident_labels)
    workflows = options.get("deployment_workflows", settings.github_deployment_workflows)

    api_url = api_url.rstrip("/")
    # github.com's web pages live on github.com; GitHub Enterprise Server serves its API under /api/v3.
    web_url = "https://github.com" if api_url == DEFAULT_API_URL else api_url.removesuffix("/api/v3")
    return ConnectionSpec(
        tool=SLUG,
        name=name,
        base_url=api_url,
        web_url=web_url,
        token=SecretStr(token),
        scopes=scopes,
        production_environments=tuple(e.lower() for e in split_list(production)),
        incident_labels=split_list(labels),
        deployment_workflows=split_list(workflows),
    )


def parse_quota(response: httpx.Response) -> list[QuotaSample]:
    limit = header_int(response, "x-ratelimit-limit")
    remaining = header_int(response, "x-ratelimit-remaining")
    if limit is None or remaining is None:
        return []
    resource = response.headers.get("x-ratelimit-resource", "core")
    return [QuotaSample(resource, limit, remaining, parse_reset(response.headers.get("x-ratelimit-reset")))]


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
