"""Sync settings: enabled tools need real tokens, `*_FILE` secrets, the connections file, documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperpage.config import ConfigError, Settings, load_settings
from hyperpage.tools.registry import configured_connections
from tests.tooling import REPO_ROOT


def test_enabled_tool_without_token_names_the_variable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(ConfigError, match=r"^GITHUB_TOKEN: required when ENABLE_GITHUB=true$"):
        load_settings(database_url=url, enable_github=True)
    with pytest.raises(ConfigError, match=r"^GITLAB_TOKEN: looks like a placeholder"):
        load_settings(database_url=url, enable_gitlab=True, gitlab_token="your-token-here")
    with pytest.raises(ConfigError, match=r"^JIRA_WEB_URL: required"):
        load_settings(database_url=url, enable_jira=True, jira_api_token="abc123def456")
    with pytest.raises(ConfigError, match=r"^JIRA_EMAIL: required for Jira Cloud"):
        load_settings(
            database_url=url,
            enable_jira=True,
            jira_api_token="abc123def456",
            jira_web_url="https://x.atlassian.net",
            jira_deployment="cloud",
        )


def test_tokens_from_files_and_scheduler_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "token"
    secret.write_text("ghp_from7a8file9\n")
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(secret))
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/x.db", enable_github=True)
    assert settings.github_token.get_secret_value() == "ghp_from7a8file9"
    assert settings.scheduler_enabled is True
    pg = load_settings(database_url="postgresql://u:p@localhost/db", enable_github=True)
    assert pg.scheduler_enabled is False
    assert load_settings(database_url="postgresql://u:p@localhost/db", hyperpage_scheduler=True).scheduler_enabled


def test_connections_file_adds_connections_with_tokens_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "connections.yaml"
    conf.write_text(
        "connections:\n"
        "  - {tool: github, name: ghe, api_url: 'https://ghe.example.com/api/v3', token_env: GHE_TOKEN,"
        " repos: [platform/*]}\n"
        "  - {tool: jira, name: dc, web_url: 'https://jira.example.com', token_env: JIRA_DC}\n"
    )
    monkeypatch.setenv("GHE_TOKEN", "ghe-secret-7890")
    monkeypatch.setenv("JIRA_DC", "dc-secret-7890")
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/x.db", hyperpage_connections_file=str(conf))
    specs = {(s.tool, s.name): s for s in configured_connections(settings)}
    assert specs[("github", "ghe")].web_url == "https://ghe.example.com"
    assert specs[("github", "ghe")].scopes == ("platform/*",)
    assert specs[("jira", "dc")].deployment == "datacenter" and specs[("jira", "dc")].base_url.endswith("/rest/api/2")
    assert "secret" not in repr(specs[("github", "ghe")])
    monkeypatch.setenv("GHE_TOKEN", "changeme")
    with pytest.raises(ConfigError, match=r"connections\[0\] \(github/ghe\): variable GHE_TOKEN holds a placeholder"):
        configured_connections(settings)
    conf.write_text("connections:\n  - {tool: github, name: x, token: abc}\n")
    with pytest.raises(ConfigError, match="never in the file"):
        configured_connections(settings)


def test_insights_lists_per_connection_or_from_the_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "connections.yaml"
    conf.write_text(
        "connections:\n"
        "  - {tool: gitlab, name: own, web_url: 'https://gitlab.example.com', token_env: GL,"
        " production_environments: [Live, prod-eu], incident_labels: [sev1]}\n"
        "  - {tool: jira, name: dc, web_url: 'https://jira.example.com', token_env: JIRA_DC,"
        " incident_issue_types: [Outage], incident_labels: 'p1, p2'}\n"
        "  - {tool: github, name: ghe, api_url: 'https://ghe.example.com/api/v3', token_env: GL}\n"
    )
    monkeypatch.setenv("GL", "gl-secret-7890")
    monkeypatch.setenv("JIRA_DC", "dc-secret-7890")
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/x.db",
        hyperpage_connections_file=str(conf),
        enable_gitlab=True,
        gitlab_token="gl-default-secret-7890",
        gitlab_production_environments="Production, Canary",
        enable_jira=True,
        jira_web_url="https://jira.example.com",
        jira_api_token="jira-default-secret-7890",
        github_incident_labels="outage",
    )
    specs = {(s.tool, s.name): s for s in configured_connections(settings)}
    own, dc = specs[("gitlab", "own")], specs[("jira", "dc")]
    assert (own.production_environments, own.incident_labels) == (("live", "prod-eu"), ("sev1",))
    assert (dc.incident_issue_types, dc.incident_labels) == (("Outage",), ("p1", "p2"))
    gitlab, jira = specs[("gitlab", "default")], specs[("jira", "default")]  # the variables (and their defaults)
    assert (gitlab.production_environments, gitlab.incident_labels) == (("production", "canary"), ("incident",))
    assert (jira.incident_issue_types, jira.incident_labels) == (("Incident",), ())
    assert specs[("github", "ghe")].incident_labels == ("outage",)
    assert own.public_scope()["production_environments"] == ["live", "prod-eu"]
    assert dc.public_scope()["incident_issue_types"] == ["Outage"]


def test_every_sync_setting_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", text, re.MULTILINE))
    ours = [
        name
        for name in Settings.model_fields
        if name.startswith(
            (
                "enable_",
                "github_",
                "gitlab_",
                "jira_",
                "sync_",
                "hyperpage_scheduler",
                "hyperpage_worker_",
                "hyperpage_connections",
            )
        )
    ]
    assert ours and [n.upper() for n in ours if n.upper() not in documented] == []
