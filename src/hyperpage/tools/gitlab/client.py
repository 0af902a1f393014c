"""GitLab REST v4 client setup (gitlab.com or self-managed through GITLAB_WEB_URL).

API: https://docs.gitlab.com/api/rest/ ; rate-limit headers:
https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from hyperpage import __version__
from hyperpage.config import Settings
from hyperpage.tools.base import ConnectionSpec, split_list
from hyperpage.tools.connfile import entry_token, file_entries
from hyperpage.tools.http import ClientPool, QuotaSample, UpstreamClient, header_int, parse_reset

SLUG = "gitlab"
DEFAULT_WEB_URL = "https://gitlab.com"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    specs = []
    if settings.enable_gitlab and settings.gitlab_token is not None:
        specs.append(
            _spec(
                "default",
                settings.gitlab_web_url,
                settings.gitlab_token.get_secret_value(),
                split_list(settings.gitlab_projects),
            )
        )
    for entry in file_entries(settings, SLUG):
        specs.append(
            _spec(
                str(entry["name"]),
                str(entry.get("web_url") or DEFAULT_WEB_URL),
                entry_token(entry).get_secret_value(),
                split_list(entry.get("projects")),
            )
        )
    return specs


def _spec(name: str, web_url: str, token: str, scopes: tuple[str, ...]) -> ConnectionSpec:
    web_url = web_url.rstrip("/")
    return ConnectionSpec(
        tool=SLUG, name=name, base_url=f"{web_url}/api/v4", web_url=web_url, token=SecretStr(token), scopes=scopes
    )


def parse_quota(response: httpx.Response) -> list[QuotaSample]:
    limit = header_int(response, "ratelimit-limit")
    remaining = header_int(response, "ratelimit-remaining")
    if limit is None or remaining is None:
        return []
    return [QuotaSample("api", limit, remaining, parse_reset(response.headers.get("ratelimit-reset")))]


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
