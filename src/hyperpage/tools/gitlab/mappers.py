"""GitLab payloads -> normalised rows (originals kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hyperpage.issues.models import StatusCategory
from hyperpage.pipelines.models import PipelineResult, PipelineStatus
from hyperpage.reviews.models import ReviewState
from hyperpage.tools.base import names, parse_time, repository_row, synced_row

_MR_STATE = {
    "opened": ReviewState.OPEN,
    "locked": ReviewState.OPEN,
    "closed": ReviewState.CLOSED,
    "merged": ReviewState.MERGED,
}
# https://docs.gitlab.com/api/pipelines/ : created, waiting_for_resource, preparing, pending, running,
# success, failed, canceled, skipped, manual, scheduled.
_PIPELINE = {
    "created": (PipelineStatus.QUEUED, None),
    "waiting_for_resource": (PipelineStatus.QUEUED, None),
    "preparing": (PipelineStatus.QUEUED, None),
    "pending": (PipelineStatus.QUEUED, None),
    "scheduled": (PipelineStatus.QUEUED, None),
    "manual": (PipelineStatus.QUEUED, None),
    "running": (PipelineStatus.IN_PROGRESS, None),
    "success": (PipelineStatus.DONE, PipelineResult.SUCCESS),
    "failed": (PipelineStatus.DONE, PipelineResult.FAILURE),
    "canceled": (PipelineStatus.DONE, PipelineResult.CANCELLED),
    "canceling": (PipelineStatus.IN_PROGRESS, None),
    "skipped": (PipelineStatus.DONE, PipelineResult.SKIPPED),
}


def pipeline_status(raw: Any) -> PipelineStatus:
    """Our status for GitLab's (unknown ones count as queued: GitLab adds states over time)."""
    return _PIPELINE.get(str(raw), (PipelineStatus.QUEUED, None))[0]


def project(item: dict[str, Any]) -> dict[str, Any]:
    return repository_row(item, full_name=item["path_with_namespace"], web_url=item.get("web_url"))


def merge_request(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime
) -> dict[str, Any]:
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        number=int(item["iid"]),
        title=item.get("title") or "",
        state=_MR_STATE.get(item["state"], ReviewState.OPEN).value,
        original_state=item["state"],
        draft=bool(item.get("draft") or item.get("work_in_progress")),
        author=(item.get("author") or {}).get("username"),
        requested_reviewers=names(item.get("reviewers"), "username"),  # absent before GitLab 13.8
        labels=names(item.get("labels"), "name"),
        source_branch=item.get("source_branch"),
        target_branch=item.get("target_branch"),
        merge_state=item.get("detailed_merge_status") or item.get("merge_status"),
        web_url=item.get("web_url"),
        merged_at=parse_time(item.get("merged_at")),
        closed_at=parse_time(item.get("closed_at")),
    )


def pipeline(item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime) -> dict[str, Any]:
    status, result = _PIPELINE.get(item["status"], (PipelineStatus.QUEUED, None))
    duration = item.get("duration")
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        name=item.get("name"),
        status=status.value,
        result=result.value if result else None,
        original_status=item["status"],
        original_result=item["status"] if result else None,
        ref=item.get("ref"),
        sha=item.get("sha"),
        event=item.get("source"),
        web_url=item.get("web_url"),
        # Still running: no finished_at, and duration is null until GitLab computes it.
        started_at=parse_time(item.get("started_at")),
        finished_at=parse_time(item.get("finished_at")),
        duration_seconds=float(duration) if duration is not None else None,
    )


def issue(item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime) -> dict[str, Any]:
    assignee = next(iter(names([item.get("assignee")], "username") + names(item.get("assignees"), "username")), None)
    references = item.get("references") or {}
    closed = item["state"] == "closed"
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        key=references.get("full") or f"#{item['iid']}",
        title=item.get("title") or "",
        status_category=(StatusCategory.DONE if closed else StatusCategory.TODO).value,
        original_status=item["state"],
        assignee=assignee,
        reporter=(item.get("author") or {}).get("username"),
        priority=item.get("severity"),
        issue_type=item.get("issue_type") or item.get("type"),
        labels=names(item.get("labels"), "name"),
        web_url=item.get("web_url"),
        resolved_at=parse_time(item.get("closed_at")),
    )
