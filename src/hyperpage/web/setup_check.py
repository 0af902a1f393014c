"""Which upstream tools are configured, and which variables each one still lacks (the setup page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from hyperpage.config import Settings

# Per tool: (variable, required?). Read with getattr: the tool settings are added by the sync feature, and
# this page must work on a build that does not have them yet (then everything is reported missing).
TOOL_VARIABLES: dict[str, tuple[tuple[str, bool], ...]] = {
    "GitHub": (("ENABLE_GITHUB", True), ("GITHUB_TOKEN", True)),
    "GitLab": (("ENABLE_GITLAB", True), ("GITLAB_TOKEN", True), ("GITLAB_WEB_URL", False)),
    "Jira": (("ENABLE_JIRA", True), ("JIRA_WEB_URL", True), ("JIRA_EMAIL", True), ("JIRA_API_TOKEN", True)),
}


@dataclass(frozen=True)
class ToolSetup:
    name: str
    missing: list[str]
    optional_missing: list[str]

    @property
    def ready(self) -> bool:
        return not self.missing


def _is_set(settings: Settings, variable: str) -> bool:
    value: Any = getattr(settings, variable.lower(), None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return bool(value)


def tool_setup(settings: Settings) -> list[ToolSetup]:
    out = []
    for name, variables in TOOL_VARIABLES.items():
        missing = [v for v, required in variables if required and not _is_set(settings, v)]
        optional = [v for v, required in variables if not required and not _is_set(settings, v)]
        out.append(ToolSetup(name=name, missing=missing, optional_missing=optional))
    return out
