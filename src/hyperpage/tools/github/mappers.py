"""GitHub payloads -> normalised rows (originals kept next to the normalised values)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hyperpage.issues.models import StatusCategory
from hyperpage.pipelines.models import PipelineResult, PipelineStatus
from hyperpage.reviews.models import ReviewState
from hyperpage.tools.base import names, parse_time, repository_row, synced_row
from hyperpage.tools.insights_store import incident_row

_RUN_STATUS = {
    "queued": PipelineStatus.QUEUED,
    "waiting": PipelineStatus.QUEUED,
    "requested": PipelineStatus.QUEUED,
    "pending": PipelineStatus.QUEUED,
    "in_progress": PipelineStatus.IN_PROGRESS,
    "completed": PipelineStatus.DONE,
}
_RUN_RESULT = {
    "success": PipelineResult.SUCCESS,
    "failure": PipelineResult.FAILURE,
    "timed_out": PipelineResult.FAILURE,
    "startup_failure": PipelineResult.FAILURE,
    "action_required": PipelineResult.FAILURE,
    "cancelled": PipelineResult.CANCELLED,
    "skipped": PipelineResult.SKIPPED,
    "neutral": PipelineResult.SKIPPED,
    "stale": PipelineResult.SKIPPED,
}


def repository(item: dict[str, Any]) -> dict[str, Any]:
    return repository_row(item, full_name=item["full_name"], web_url=item.get("html_url"))


def pull_request(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime
) -> dict[str, Any]:
    if item.get("merged_at"):
        state = ReviewState.MERGED
    elif item["state"] == "closed":
        state = ReviewState.CLOSED
    else:
        state = ReviewState.OPEN
    reviewers = names(item.get("requested_reviewers"), "login") + names(item.get("requested_teams"), "slug", "team:")
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        number=int(item["number"]),
        title=item.get("title") or "",
        state=state.value,
        original_state=item["state"],
        draft=bool(item.get("draft")),
        author=(item.get("user") or {}).get("login"),
        requested_reviewers=reviewers,
        labels=names(item.get("labels"), "name"),
        source_branch=(item.get("head") or {}).get("ref"),
        target_branch=(item.get("base") or {}).get("ref"),
        merge_state=item.get("mergeable_state"),
        web_url=item.get("html_url"),
        merged_at=parse_time(item.get("merged_at")),
        closed_at=parse_time(item.get("closed_at")),
    )


def workflow_run(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime
) -> dict[str, Any]:
    status = _RUN_STATUS.get(item["status"], PipelineStatus.QUEUED)
    conclusion = item.get("conclusion")
    result = _RUN_RESULT.get(conclusion) if status is PipelineStatus.DONE and conclusion else None
    started = parse_time(item.get("run_started_at"))
    finished = parse_time(item["updated_at"]) if status is PipelineStatus.DONE else None
    duration = (finished - started).total_seconds() if started and finished else None
    if started and finished and finished < started:
        # The list has no completion time; `updated_at` is the run object's last change. A run that waited
        # for approval (`action_required`) can be updated before `run_started_at` (a recorded one by 25 s).
        # It did not run for a negative time: finished no earlier than it started, duration unknown (null,
        # not 0, so averages are not pulled down).
        finished, duration = started, None
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        name=item.get("name") or item.get("display_title"),
        status=status.value,
        result=result.value if result else None,
        original_status=item["status"],
        original_result=conclusion,
        ref=item.get("head_branch"),
        sha=item.get("head_sha"),
        event=item.get("event"),
        web_url=item.get("html_url"),
        started_at=started,
        finished_at=finished,
        duration_seconds=duration,
    )


def issue(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, repo: str, now: datetime
) -> dict[str, Any]:
    closed = item["state"] == "closed"
    reason = item.get("state_reason")
    # API version 2026-03-10 drops the singular `assignee`; the first of `assignees` is the same person.
    assignee = next(iter(names([item.get("assignee")], "login") + names(item.get("assignees"), "login")), None)
    return synced_row(
        item,
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        key=f"{repo}#{item['number']}",
        title=item.get("title") or "",
        status_category=(StatusCategory.DONE if closed else StatusCategory.TODO).value,
        original_status=f"{item['state']} ({reason})" if reason else item["state"],
        assignee=assignee,
        reporter=(item.get("user") or {}).get("login"),
        priority=None,
        issue_type=(item.get("type") or {}).get("name") if item.get("type") else None,
        labels=names(item.get("labels"), "name"),
        web_url=item.get("html_url"),
        resolved_at=parse_time(item.get("closed_at")),
    )


def incident(
    item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime, repo: str
) -> dict[str, Any]:
    """An issue with an incident label -> an incidents row (opened = created, resolved = closed)."""
    return incident_row(
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        external_id=str(item["id"]),
        key=f"{repo}#{item['number']}",
        title=item.get("title") or "",
        labels=names(item.get("labels"), "name"),
        web_url=item.get("html_url"),
        opened_at=parse_time(item["created_at"]),
        resolved_at=parse_time(item.get("closed_at")) if item.get("state") == "closed" else None,
    )
