"""Jira client setup: Cloud (email + API token, Basic) or Data Center (personal access token, Bearer).

Cloud auth: https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
Data Center PATs: https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
Rate limiting: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
from pydantic import SecretStr

from hyperpage import __version__
from hyperpage.config import ConfigError, Settings
from hyperpage.tools.base import ConnectionSpec
from hyperpage.tools.connfile import entry_token, file_entries, insight_lists
from hyperpage.tools.http import ClientPool, QuotaSample, UpstreamClient, quota_from_headers

SLUG = "jira"
# The original Hyperpage showed "issues involving me"; this is that scope in JQL.
DEFAULT_JQL = "assignee = currentUser() OR reporter = currentUser() OR watcher = currentUser()"


def connection_specs(settings: Settings) -> list[ConnectionSpec]:
    specs = []
    if settings.enable_jira and settings.jira_api_token is not None and settings.jira_web_url:
        specs.append(
            _spec(
                "default",
                settings.jira_web_url,
                settings.jira_api_token,
                settings.jira_email,
                settings.jira_deployment,
                settings.jira_jql,
                {},
                settings,
            )
        )
    for entry in file_entries(settings, SLUG):
        if not entry.get("web_url"):
            raise ConfigError(f"{entry['_where']}: needs `web_url`")
        specs.append(
            _spec(
                str(entry["name"]),
                str(entry["web_url"]),
                entry_token(entry),
                entry.get("email"),
                entry.get("deployment"),
                str(entry.get("jql") or ""),
                entry,
                settings,
            )
        )
    return specs


def _spec(
    name: str,
    web_url: str,
    token: SecretStr,
    email: str | None,
    deployment: str | None,
    jql: str,
    options: dict[str, Any],
    settings: Settings,
) -> ConnectionSpec:
    # Email + token is Jira Cloud; a token alone is a Data Center personal access token.
    deployment = deployment or ("cloud" if email else "datacenter")
    web_url = web_url.rstrip("/")
    api = "/rest/api/3" if deployment == "cloud" else "/rest/api/2"
    return ConnectionSpec(
        tool=SLUG,
        name=name,
        base_url=f"{web_url}{api}",
        web_url=web_url,
        token=token,
        email=email,
        deployment=deployment,
        jql=jql.strip() or DEFAULT_JQL,
        **insight_lists(settings, SLUG, options, "incident_issue_types", "incident_labels"),
    )


def parse_quota(response: httpx.Response) -> list[QuotaSample]:
    return quota_from_headers(response, "x-ratelimit", "global")


def make_client(spec: ConnectionSpec, pool: ClientPool) -> UpstreamClient:
    token = spec.token.get_secret_value()
    if spec.deployment == "cloud":
        basic = base64.b64encode(f"{spec.email}:{token}".encode()).decode()
        auth = f"Basic {basic}"
    else:
        auth = f"Bearer {token}"
    headers = {"Authorization": auth, "Accept": "application/json", "User-Agent": f"hyperpage/{__version__}"}
    return pool.get(
        tool=SLUG, connection=spec.name, base_url=spec.base_url, token=token, headers=headers, parse_quota=parse_quota
    )
