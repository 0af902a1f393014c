"""Recorded-shape payloads -> normalised rows, with the original values kept.

GitHub: https://docs.github.com/rest/pulls/pulls , /rest/issues/issues (lists include PRs),
/rest/actions/workflow-runs. GitLab: https://docs.gitlab.com/api/merge_requests/ , /api/pipelines/ ,
/api/issues/. Jira: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hyperpage.tools.github import mappers as gh
from hyperpage.tools.gitlab import mappers as gl
from hyperpage.tools.jira import mappers as jira
from tests.tools.mock_github import fixture

NOW = datetime(2026, 10, 13, tzinfo=UTC)
IDS = {"connection_id": 1, "repository_id": 2, "now": NOW}


def test_github_pull_request_keeps_reviewers_teams_draft_and_original_state() -> None:
    row = gh.pull_request(fixture("github", "pull.json"), **IDS)
    assert (row["state"], row["original_state"], row["draft"]) == ("OPEN", "open", True)
    assert row["requested_reviewers"] == ["hubot", "team:justice-league"]
    assert (row["source_branch"], row["target_branch"], row["labels"]) == ("new-topic", "main", ["bug"])
    merged = gh.pull_request(
        {**fixture("github", "pull.json"), "state": "closed", "merged_at": "2026-10-12T21:00:00Z"}, **IDS
    )
    assert merged["state"] == "MERGED" and merged["merged_at"] == datetime(2026, 10, 12, 21, tzinfo=UTC)


def test_github_workflow_runs_map_status_and_conclusion() -> None:
    done, running = fixture("github", "workflow_runs.json")["workflow_runs"]
    row = gh.workflow_run(done, **IDS)
    assert (row["status"], row["result"], row["original_result"]) == ("DONE", "FAILURE", "timed_out")
    assert row["duration_seconds"] == 445.0
    row = gh.workflow_run(running, **IDS)
    assert (row["status"], row["result"], row["finished_at"]) == ("IN_PROGRESS", None, None)


def test_github_issue_mapping_and_state_reason() -> None:
    closed = fixture("github", "issues_with_pr.json")[0]
    row = gh.issue(closed, repo="acme/web", **IDS)
    assert (row["key"], row["status_category"], row["original_status"]) == (
        "acme/web#1347",
        "DONE",
        "closed (completed)",
    )
    assert row["assignee"] == "hubot"


def test_gitlab_merge_requests_draft_reviewers_and_states() -> None:
    draft, merged = fixture("gitlab", "merge_requests.json")
    row = gl.merge_request(draft, **IDS)
    assert (row["state"], row["draft"], row["requested_reviewers"]) == ("OPEN", True, ["reviewer1"])
    assert row["merge_state"] == "draft_status" and row["number"] == 14
    assert gl.merge_request(merged, **IDS)["state"] == "MERGED"


def test_gitlab_running_pipeline_has_no_finish() -> None:
    row = gl.pipeline(fixture("gitlab", "pipeline_47.json"), **IDS)
    assert (row["status"], row["result"], row["finished_at"], row["duration_seconds"]) == (
        "IN_PROGRESS",
        None,
        None,
        None,
    )
    assert row["started_at"] == datetime(2026, 10, 12, 7, 0, 10, tzinfo=UTC)
    failed = gl.pipeline(fixture("gitlab", "pipeline_48.json"), **IDS)
    assert (failed["status"], failed["result"], failed["original_status"], failed["duration_seconds"]) == (
        "DONE",
        "FAILURE",
        "failed",
        520.0,
    )


def test_gitlab_issue_uses_full_reference() -> None:
    open_issue, incident = fixture("gitlab", "issues.json")
    assert gl.issue(open_issue, **IDS)["key"] == "group/app#6"
    row = gl.issue(incident, **IDS)
    assert (row["status_category"], row["issue_type"], row["priority"]) == ("DONE", "incident", "HIGH")


def test_jira_cloud_issue_with_adf_description_and_status_category() -> None:
    [item] = fixture("jira", "search_page1.json")["issues"]
    assert isinstance(item["fields"]["description"], dict)  # Atlassian Document Format, not a string
    row = jira.issue(item, connection_id=1, web_url="https://acme.atlassian.net", now=NOW)
    assert (row["key"], row["status_category"], row["original_status"]) == ("OPS-1", "IN_PROGRESS", "In Review")
    assert row["web_url"] == "https://acme.atlassian.net/browse/OPS-1"
    assert row["updated_at"] == datetime(2026, 10, 5, 12, tzinfo=UTC)
    [done] = fixture("jira", "search_page2.json")["issues"]
    row = jira.issue(done, connection_id=1, web_url="https://acme.atlassian.net", now=NOW)
    assert row["status_category"] == "DONE" and row["resolved_at"] == datetime(2026, 9, 25, 10, tzinfo=UTC)


def test_unexpected_shapes_raise_what_the_sync_rejects_item_by_item() -> None:
    # JobContext.map catches exactly these and keeps the item in sync_rejects (tests/sync/test_upstream_fidelity)
    for bad in ({"id": 1}, "not an object"):
        with pytest.raises((KeyError, TypeError, ValueError, AttributeError)):
            gh.pull_request(bad, **IDS)


def test_action_required_run_updated_before_it_started_has_no_negative_duration() -> None:
    # A real `action_required` run: GitHub documents `updated_at` as the run object's last update, not its
    # end (https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository); here it
    # is 25 s before `run_started_at` (the run waits for approval and was re-requested).
    run = {
        **fixture("github", "workflow_runs.json")["workflow_runs"][0],
        "status": "completed",
        "conclusion": "action_required",
        "updated_at": "2026-10-12T10:00:00Z",
        "run_started_at": "2026-10-12T10:00:25Z",
    }
    row = gh.workflow_run(run, **IDS)
    assert row["duration_seconds"] is None
    assert row["finished_at"] >= row["started_at"]
    ordinary = gh.workflow_run(fixture("github", "workflow_runs.json")["workflow_runs"][0], **IDS)
    assert ordinary["duration_seconds"] == 445.0


def test_github_incident_is_open_until_closed_and_takes_its_environment_from_an_env_label() -> None:
    issue = {**fixture("github", "issues_with_pr.json")[0], "state": "open", "closed_at": None}
    row = gh.incident({**issue, "labels": [{"name": "incident"}]}, **IDS, repo="octocat/Hello-World")
    assert (row["environment"], row["resolved_at"], row["key"]) == (
        None,
        None,
        f"octocat/Hello-World#{issue['number']}",
    )
    closed = {**issue, "state": "closed", "closed_at": "2026-10-12T21:00:00Z", "labels": ["incident", "env:staging"]}
    row = gh.incident(closed, **IDS, repo="octocat/Hello-World")
    assert (row["environment"], row["resolved_at"]) == ("staging", datetime(2026, 10, 12, 21, tzinfo=UTC))
