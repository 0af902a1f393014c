"""The original portal's tool registry, as data: names, slugs, capabilities, widgets and endpoints.

Only what the original's `/api/tools/enabled` exposes; the rows themselves come from our database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

FIVE_MIN_MS = 300_000


@dataclass(frozen=True)
class Endpoint:
    name: str
    description: str
    data_key: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolDef:
    name: str
    slug: str
    members: tuple[str, ...]  # our tools behind it: itself, or the tools an aggregator combines
    capabilities: tuple[str, ...]
    widgets: tuple[dict[str, Any], ...]
    endpoints: tuple[Endpoint, ...]

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name == name), None)


_LIMIT = {"limit": {"type": "number", "required": False, "description": "Rows to return (1-200, default 20)"}}
_RATE = Endpoint("rate-limit", "Current API rate limit status", "limits")
_TICKET_HEADERS = ["Ticket", "Title", "Status", "Assignee", "Created"]


def _widget(
    title: str, endpoint: str, headers: list[str], refresh: int | None = FIVE_MIN_MS, display: str | None = None
) -> dict[str, Any]:
    widget: dict[str, Any] = {
        "title": title,
        "type": "table",
        "dynamic": True,
        "headers": headers,
        "apiEndpoint": endpoint,
    }
    if refresh:
        widget["refreshInterval"] = refresh
    if display:
        widget["displayName"] = display
    return widget


class _Widget(NamedTuple):
    """One of a forge's lists: its endpoint and the table widget showing it."""

    endpoint: str
    title: str
    description: str
    data_key: str
    headers: list[str]


def _forge(name: str, reviews: _Widget, pipelines: _Widget) -> ToolDef:
    """GitHub and GitLab: code reviews, pipelines and issues (a widget and an endpoint each), and the rate limit."""
    slug = name.lower()
    lists = (reviews, pipelines, _Widget("issues", "Issues", "Open issues", "issues", _TICKET_HEADERS))
    return ToolDef(
        name,
        slug,
        (slug,),
        (*(item.endpoint for item in lists), "rate-limit"),
        tuple(_widget(f"{name} {item.title}", item.endpoint, item.headers) for item in lists),
        (*(Endpoint(item.endpoint, item.description, item.data_key, _LIMIT) for item in lists), _RATE),
    )


TOOLS: tuple[ToolDef, ...] = (
    _forge(
        "GitHub",
        _Widget(
            "pull-requests",
            "Pull Requests",
            "Open pull requests",
            "pullRequests",
            ["ID", "Title", "Repository", "Status", "Created"],
        ),
        _Widget(
            "workflows",
            "Workflows",
            "Recent GitHub Actions workflow runs",
            "workflows",
            ["Name", "Repository", "Head Branch", "Status", "Conclusion"],
        ),
    ),
    _forge(
        "GitLab",
        _Widget(
            "merge-requests",
            "Merge Requests",
            "Open merge requests",
            "mergeRequests",
            ["ID", "Title", "Project", "Status", "Created"],
        ),
        _Widget(
            "pipelines",
            "Pipelines",
            "Recent pipelines",
            "pipelines",
            ["Project", "Branch", "Status", "Duration", "Finished At"],
        ),
    ),
    ToolDef(
        "Jira",
        "jira",
        ("jira",),
        ("issues", "rate-limit"),
        (_widget("Jira Issues", "issues", _TICKET_HEADERS),),
        (Endpoint("issues", "Recently updated issues", "issues", _LIMIT), _RATE),
    ),
    ToolDef(
        "Code Reviews",
        "code-reviews",
        ("github", "gitlab"),
        (),
        (
            _widget(
                "Code Reviews",
                "pull-requests",
                ["ID", "Title", "Repository", "Status", "Tool"],
                refresh=600_000,
                display="Combined",
            ),
        ),
        (Endpoint("pull-requests", "Open pull and merge requests of every tool", "pullRequests", _LIMIT),),
    ),
    ToolDef(
        "CI/CD",
        "ci-cd",
        ("github", "gitlab"),
        (),
        (
            _widget(
                "CI/CD Pipelines",
                "pipelines",
                ["Project", "Branch", "Status", "Duration", "Finished", "Tool"],
                refresh=None,
            ),
        ),
        (
            Endpoint(
                "pipelines",
                "Pipelines and workflow runs of every tool",
                "pipelines",
                {
                    "status": {
                        "type": "string",
                        "required": False,
                        "description": "Case-insensitive substring of the status",
                    },
                    **_LIMIT,
                },
            ),
        ),
    ),
    ToolDef(
        "Ticketing",
        "ticketing",
        ("github", "gitlab", "jira"),
        (),
        (_widget("Tickets", "issues", ["ID", "Title", "Status", "Assignee", "Tool"], display="Combined"),),
        (Endpoint("issues", "Issues of every ticketing tool", "issues", _LIMIT),),
    ),
)
BY_SLUG = {tool.slug: tool for tool in TOOLS}
PLATFORMS = ("github", "gitlab", "jira")
