"""Configuration of the fake upstream: data sizes, seed, tokens and quotas.

A plain frozen dataclass rather than a field of the portal's Settings: the fake upstream is a separate
program (tests and `make run` start it next to the portal) and must not read the portal's environment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Tokens the demo accepts out of the box. They are not secrets: they only open this fake server, and
# `make run` passes the same values to the portal.
DEMO_GITHUB_TOKEN = "ghp_fakeUpstreamDemoToken000000000000000"
DEMO_GITLAB_TOKEN = "glpat-fakeUpstreamDemoToken00"
DEMO_JIRA_EMAIL = "demo@example.com"
DEMO_JIRA_API_TOKEN = "fake-jira-api-token"
DEMO_JIRA_PAT = "fake-jira-personal-access-token"


@dataclass(frozen=True)
class FakeUpstreamConfig:
    """Everything that shapes the generated world and the server's behaviour."""

    seed: int = 42
    # The instant the data is generated back from; None = now, floored to the minute. Tests pass a fixed
    # value so two worlds built from the same seed are byte-for-byte equal.
    now: datetime | None = None
    history_days: int = 42

    people: int = 24
    # GitHub
    github_orgs: int = 2
    repos: int = 6
    prs_per_repo: int = 30
    # The first repository gets this many pull requests (0 = same as the others): 250 at per_page=100 is
    # the three-page case the sync tests need.
    big_repo_prs: int = 250
    issues_per_repo: int = 20
    runs_per_repo: int = 40
    # Where @octokit/graphql-schema is installed (None: the checkout's tests/graphql/node_modules, where
    # `make deps` puts it); without it POST /github/graphql answers 501 naming the install step.
    github_graphql_schema: Path | None = None
    # GitLab
    gitlab_groups: int = 2
    projects: int = 4
    mrs_per_project: int = 25
    pipelines_per_project: int = 40
    gitlab_issues_per_project: int = 20
    # Jira
    jira_projects: int = 3
    jira_issues_per_project: int = 60
    jira_default_page: int = 50
    jira_max_page: int = 100

    # Credentials: token -> index of the person it belongs to (0 = the demo user).
    github_tokens: dict[str, int] = field(default_factory=lambda: {DEMO_GITHUB_TOKEN: 0})
    gitlab_tokens: dict[str, int] = field(default_factory=lambda: {DEMO_GITLAB_TOKEN: 0})
    jira_basic: dict[str, tuple[str, int]] = field(default_factory=lambda: {DEMO_JIRA_EMAIL: (DEMO_JIRA_API_TOKEN, 0)})
    jira_pats: dict[str, int] = field(default_factory=lambda: {DEMO_JIRA_PAT: 0})

    # Quotas. GitHub's are per token and per resource (core, search, graphql); the window starts at a
    # token's first counted request, as GitHub's does.
    github_core_limit: int = 5000
    github_search_limit: int = 30
    github_graphql_limit: int = 5000
    github_window_seconds: int = 3600
    github_search_window_seconds: int = 60
    gitlab_limit: int = 2000
    gitlab_window_seconds: int = 60
    # GitLab's throttle (Rack::Attack) counts every request, 304s included; GitHub does not charge 304s.
    gitlab_charges_304: bool = True
    # Seconds every API answer is held back (0 = none). A real upstream takes 100-500 ms; with latency,
    # overlapping requests become visible, so the per-token in-flight maximum in /_fake/stats shows whether a
    # client caps its concurrency.
    latency_seconds: float = 0.0
    # GitHub refuses more than this many concurrent requests per token with a secondary-limit 403.
    github_max_concurrent: int = 100
    # Above this many items GitLab stops counting: no X-Total, X-Total-Pages or rel="last".
    gitlab_count_limit: int = 10_000

    def anchor(self) -> datetime:
        if self.now is not None:
            return self.now.astimezone(UTC)
        return datetime.now(UTC).replace(second=0, microsecond=0)

    def with_overrides(self, **changes: object) -> FakeUpstreamConfig:
        # Overrides come from tests and CLI flags as loosely typed keyword arguments; replace() checks names at runtime.
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # values of mixed field types
