"""The generated world is internally consistent, whatever the seed: the sync's normalisation relies on it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hyperpage.demo.generate import build_world
from tests.demo.conftest import ANCHOR, small_config

RUN_CONCLUSIONS = {"success", "failure", "cancelled", "skipped", "neutral", "timed_out", "action_required"}
PIPELINE_STATES = {
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
}


@pytest.mark.parametrize("seed", [1, 42, 2026])
def test_generated_records_are_consistent(seed: int) -> None:
    w = build_world(small_config(seed=seed))
    oldest = ANCHOR.replace(month=9)
    for pr in w.pulls:
        assert oldest < pr.created_at <= pr.updated_at <= ANCHOR
        assert (pr.merged_at is not None) <= (pr.state == "closed")
        assert (pr.closed_at is not None) == (pr.state == "closed")
        assert pr.user not in pr.requested_reviewers
        assert not pr.draft or pr.state == "open"
    numbers = {}
    for item in (*w.pulls, *w.gh_issues):
        numbers.setdefault(item.repo.full_name, []).append(item.number)
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in numbers.values())  # one shared sequence
    for run in w.runs:
        assert (run.conclusion in RUN_CONCLUSIONS) if run.status == "completed" else run.conclusion is None
        assert run.created_at <= run.run_started_at
        if run.conclusion == "action_required":  # as recorded on GitHub: updated before it "started"
            assert run.updated_at == run.run_started_at - timedelta(seconds=25)
        else:
            assert run.run_started_at <= run.updated_at
    assert {r.status for r in w.runs} >= {"queued", "in_progress", "completed"}
    for pl in w.pipelines:
        assert pl.status in PIPELINE_STATES
        assert (pl.finished_at is not None) == (pl.status in {"success", "failed", "canceled"})
        if pl.status == "running":
            assert pl.started_at is not None and pl.finished_at is None
    for mr in w.mrs:
        assert (mr.merged_at is not None) == (mr.state == "merged")
        assert mr.created_at <= mr.updated_at
    for issue in w.jira_issues:
        # done without a resolution only where a workflow sets none: then the status category change says when
        resolved = issue.resolutiondate or (issue.status_changed if issue.issuetype == "Incident" else None)
        assert (resolved is not None) == (issue.status[1] == "done")
        assert issue.reporter in issue.watchers
    keys = [i.key for i in w.jira_issues]
    assert len(keys) == len(set(keys))
    ids = [x.id for x in (*w.pulls, *w.gh_issues, *w.runs, *w.mrs, *w.pipelines, *w.gl_issues, *w.jira_issues)]
    assert len(ids) == len(set(ids))
