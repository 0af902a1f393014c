"""The tools Hyperpage syncs, as an explicit tuple: no import-time registration, no entry points."""

from __future__ import annotations

from hyperpage.config import Settings
from hyperpage.tools.base import ConnectionSpec, ToolDefinition
from hyperpage.tools.github.sync import TOOL as GITHUB
from hyperpage.tools.gitlab.sync import TOOL as GITLAB
from hyperpage.tools.jira.sync import TOOL as JIRA

DEFAULT_TOOLS: tuple[ToolDefinition, ...] = (GITHUB, GITLAB, JIRA)
BY_SLUG = {tool.slug: tool for tool in DEFAULT_TOOLS}


def get_tool(slug: str) -> ToolDefinition:
    return BY_SLUG[slug]


def configured_connections(settings: Settings) -> list[ConnectionSpec]:
    """Every enabled connection of every tool (raises ConfigError naming the variable on a bad one)."""
    specs: list[ConnectionSpec] = []
    for tool in DEFAULT_TOOLS:
        specs.extend(tool.connection_specs(settings))
    return specs
