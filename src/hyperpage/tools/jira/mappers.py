"""Jira issues -> normalised rows. The status category is Jira's own (new / indeterminate / done)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hyperpage.issues.models import StatusCategory
from hyperpage.tools.base import parse_time
from hyperpage.tools.insights_store import incident_row

FIELDS = [
    "summary",
    "status",
    "assignee",
    "reporter",
    "priority",
    "issuetype",
    "labels",
    "created",
    "updated",
    "resolutiondate",
    "project",
]
INCIDENT_FIELDS = ["summary", "status", "labels", "created", "updated", "resolutiondate", "statuscategorychangedate"]
_CATEGORY = {"new": StatusCategory.TODO, "indeterminate": StatusCategory.IN_PROGRESS, "done": StatusCategory.DONE}


def _person(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return value.get("displayName") or value.get("name") or value.get("accountId")


def issue(item: dict[str, Any], *, connection_id: int, web_url: str, now: datetime) -> dict[str, Any]:
    fields = item["fields"]
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key", "new")
    return {
        "connection_id": connection_id,
        "repository_id": None,
        "external_id": str(item["id"]),
        "key": item["key"],
        "title": fields.get("summary") or "",
        "status_category": _CATEGORY.get(category, StatusCategory.TODO).value,
        "original_status": status.get("name") or category,
        "assignee": _person(fields.get("assignee")),
        "reporter": _person(fields.get("reporter")),
        "priority": (fields.get("priority") or {}).get("name"),
        "issue_type": (fields.get("issuetype") or {}).get("name"),
        "labels": list(fields.get("labels") or []),
        "web_url": f"{web_url}/browse/{item['key']}",
        "created_at": parse_time(fields["created"]),
        "updated_at": parse_time(fields["updated"]),
        "resolved_at": parse_time(fields.get("resolutiondate")),
        "synced_at": now,
    }


def incident(item: dict[str, Any], *, connection_id: int, web_url: str, now: datetime) -> dict[str, Any]:
    """An issue of an incident type or label -> an incidents row: opened = created, resolved = its resolution
    date, or, in a workflow that sets no resolution, when its status entered the done category. Jira knows no
    repository: the incident stays without one (docs/insights.md says how the metrics count it)."""
    fields = item["fields"]
    done = ((fields.get("status") or {}).get("statusCategory") or {}).get("key") == "done"
    resolved = parse_time(fields.get("resolutiondate"))
    if resolved is None and done:
        resolved = parse_time(fields.get("statuscategorychangedate"))
    return incident_row(
        connection_id=connection_id,
        repository_id=None,
        now=now,
        external_id=str(item["id"]),
        key=item["key"],
        title=fields.get("summary") or "",
        labels=[str(label) for label in fields.get("labels") or []],
        web_url=f"{web_url}/browse/{item['key']}",
        opened_at=parse_time(fields["created"]),
        resolved_at=resolved,
    )
