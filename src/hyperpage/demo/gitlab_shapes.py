"""GitLab REST v4 JSON shapes rendered from the world's records."""

from __future__ import annotations

from typing import Any

from hyperpage.demo.httpkit import iso_ms
from hyperpage.demo.shapes import PeopleShapes
from hyperpage.demo.world import GlIssue, Group, MergeRequest, Person, Pipeline, Project

PIPELINE_ICONS = {
    "success": "passed",
    "failed": "failed",
    "canceled": "canceled",
    "running": "running",
    "pending": "pending",
    "created": "created",
    "skipped": "skipped",
    "manual": "manual",
    "scheduled": "scheduled",
    "preparing": "preparing",
    "waiting_for_resource": "waiting for resource",
}


def _issuable(item: MergeRequest | GlIssue) -> dict[str, Any]:
    """The fields GitLab's merge requests and issues (both "issuables") start with."""
    return {
        "id": item.id,
        "iid": item.iid,
        "project_id": item.project.id,
        "title": item.title,
        "description": item.description,
        "state": item.state,
        "created_at": iso_ms(item.created_at),
        "updated_at": iso_ms(item.updated_at),
    }


class GitLabShapes(PeopleShapes):
    def __init__(self, web: str, people: list[Person]) -> None:
        self.web = web  # GITLAB_WEB_URL, e.g. http://127.0.0.1:8000/gitlab
        self.api = web + "/api/v4"
        self.people = people

    def person(self, index: int) -> dict[str, Any]:
        p = self.people[index]
        return {
            "id": p.gitlab_id,
            "username": p.login,
            "name": p.name,
            "state": "active",
            "locked": False,
            "avatar_url": f"{self.web}/uploads/-/system/user/avatar/{p.gitlab_id}/avatar.png",
            "web_url": f"{self.web}/{p.login}",
        }

    def current_user(self, person: Person) -> dict[str, Any]:
        return {
            **self.user(person.index),
            "created_at": "2020-02-03T04:05:06.000Z",
            "bio": "",
            "location": "",
            "public_email": None,
            "email": person.email,
            "commit_email": person.email,
            "is_admin": False,
            "two_factor_enabled": True,
            "external": False,
            "private_profile": False,
            "bot": False,
            "can_create_group": True,
            "can_create_project": True,
            "projects_limit": 100000,
        }

    def namespace(self, group: Group) -> dict[str, Any]:
        return {
            "id": group.id,
            "name": group.name,
            "path": group.path,
            "kind": "group",
            "full_path": group.path,
            "parent_id": None,
            "avatar_url": None,
            "web_url": f"{self.web}/groups/{group.path}",
        }

    def project(self, p: Project, open_issues: int = 0) -> dict[str, Any]:
        link = f"{self.api}/projects/{p.id}"
        return {
            "id": p.id,
            "description": p.description,
            "name": p.name,
            "name_with_namespace": f"{p.group.name} / {p.name}",
            "path": p.path,
            "path_with_namespace": p.path_with_namespace,
            "created_at": iso_ms(p.created_at),
            "default_branch": p.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@gitlab.invalid:{p.path_with_namespace}.git",
            "http_url_to_repo": f"{self.web}/{p.path_with_namespace}.git",
            "web_url": f"{self.web}/{p.path_with_namespace}",
            "readme_url": f"{self.web}/{p.path_with_namespace}/-/blob/main/README.md",
            "forks_count": 0,
            "avatar_url": None,
            "star_count": 2,
            "last_activity_at": iso_ms(p.last_activity_at),
            "namespace": self.namespace(p.group),
            "visibility": "private",
            "archived": False,
            "empty_repo": False,
            "issues_enabled": True,
            "merge_requests_enabled": True,
            "jobs_enabled": True,
            "open_issues_count": open_issues,
            "_links": {
                "self": link,
                "issues": f"{link}/issues",
                "merge_requests": f"{link}/merge_requests",
                "repo_branches": f"{link}/repository/branches",
                "labels": f"{link}/labels",
                "events": f"{link}/events",
                "members": f"{link}/members",
            },
        }

    def merge_request(self, mr: MergeRequest) -> dict[str, Any]:
        shape = self._merge_request(mr)
        if mr.iid % 7 == 0:
            # Older GitLab (13.x) has no `draft` (only work_in_progress), no `reviewers` (13.8) and no
            # `detailed_merge_status` (15.6); self-managed instances still answer like that.
            for key in ("draft", "reviewers", "detailed_merge_status"):
                shape.pop(key)
        return shape

    def _merge_request(self, mr: MergeRequest) -> dict[str, Any]:
        p = mr.project
        return {
            **_issuable(mr),
            "merged_by": self.user(mr.merged_by),
            "merge_user": self.user(mr.merged_by),
            "merged_at": iso_ms(mr.merged_at),
            "closed_by": self.user(mr.closed_by),
            "closed_at": iso_ms(mr.closed_at),
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "user_notes_count": mr.user_notes_count,
            "upvotes": 0,
            "downvotes": 0,
            "author": self.user(mr.author),
            "assignees": [self.user(a) for a in mr.assignees],
            "assignee": self.user(mr.assignees[0]) if mr.assignees else None,
            "reviewers": [self.user(r) for r in mr.reviewers],
            "source_project_id": p.id,
            "target_project_id": p.id,
            "labels": list(mr.labels),
            "draft": mr.draft,
            "work_in_progress": mr.draft,
            "milestone": None,
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged" if mr.state == "opened" else "unchecked",
            "detailed_merge_status": mr.detailed_merge_status,
            "sha": mr.sha,
            "merge_commit_sha": mr.merge_commit_sha,
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": True,
            "prepared_at": iso_ms(mr.created_at),
            "reference": f"!{mr.iid}",
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{p.path_with_namespace}!{mr.iid}",
            },
            "web_url": f"{self.web}/{p.path_with_namespace}/-/merge_requests/{mr.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "squash": False,
            "squash_on_merge": False,
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_conflicts": mr.detailed_merge_status == "conflict",
            "blocking_discussions_resolved": True,
        }

    def pipeline(self, pl: Pipeline, single: bool = False) -> dict[str, Any]:
        p = pl.project
        web = f"{self.web}/{p.path_with_namespace}/-/pipelines/{pl.id}"
        out: dict[str, Any] = {
            "id": pl.id,
            "iid": pl.iid,
            "project_id": p.id,
            "sha": pl.sha,
            "ref": pl.ref,
            "status": pl.status,
            "source": pl.source,
            "created_at": iso_ms(pl.created_at),
            "updated_at": iso_ms(pl.updated_at),
            "web_url": web,
            "name": None,
        }
        if single:
            # Only the single-pipeline endpoint has timing; a running pipeline has no finished_at/duration.
            duration = (
                int((pl.finished_at - pl.started_at).total_seconds()) if pl.finished_at and pl.started_at else None
            )
            icon = PIPELINE_ICONS.get(pl.status, pl.status)
            out.update(
                {
                    "before_sha": "0" * 40,
                    "tag": False,
                    "yaml_errors": None,
                    "user": self.user(pl.user),
                    "started_at": iso_ms(pl.started_at),
                    "finished_at": iso_ms(pl.finished_at),
                    "committed_at": None,
                    "duration": duration,
                    "queued_duration": pl.queued_duration,
                    "coverage": None,
                    "detailed_status": {
                        "icon": f"status_{pl.status}",
                        "text": icon,
                        "label": icon,
                        "group": pl.status,
                        "tooltip": icon,
                        "has_details": True,
                        "details_path": web.removeprefix(self.web),
                        "illustration": None,
                        "favicon": f"/assets/ci_favicons/favicon_status_{pl.status}.png",
                    },
                }
            )
        return out

    def issue(self, issue: GlIssue) -> dict[str, Any]:
        p = issue.project
        return {
            **_issuable(issue),
            "closed_at": iso_ms(issue.closed_at),
            "closed_by": self.user(issue.closed_by),
            "labels": list(issue.labels),
            "milestone": None,
            "assignees": [self.user(a) for a in issue.assignees],
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "author": self.user(issue.author),
            "type": issue.issue_type.upper(),
            "issue_type": issue.issue_type,
            "user_notes_count": issue.user_notes_count,
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": False,
            "discussion_locked": None,
            "web_url": f"{self.web}/{p.path_with_namespace}/-/issues/{issue.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_tasks": False,
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{p.path_with_namespace}#{issue.iid}",
            },
            "severity": "UNKNOWN",
        }
