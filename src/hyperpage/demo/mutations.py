"""Changes to the world: the control plane's /_fake/mutate operations and the demo's background activity.

Every change stamps `updated_at` with `FakeUpstream.moment()`, strictly after anything already stored,
so an incremental sync (since / updated_after / JQL updated >=) is guaranteed to see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from hyperpage.demo import names
from hyperpage.demo.generate import Generator
from hyperpage.demo.generate_gitlab import add_pipeline
from hyperpage.demo.httpkit import iso_z
from hyperpage.demo.world import JiraIssue, MergeRequest, Pipeline, Project, PullRequest, Repo, WorkflowRun

if TYPE_CHECKING:
    from hyperpage.demo.upstream import FakeUpstream

T = TypeVar("T")
RUN_STATES = ("queued", "in_progress", "completed")
DONE_PIPELINES = ("success", "failed", "canceled", "skipped")


class MutationError(ValueError):
    pass


def _need(params: dict[str, Any], key: str) -> Any:
    if key not in params:
        raise MutationError(f"missing parameter {key!r}")
    return params[key]


def _generator(up: FakeUpstream) -> Generator:
    gen = Generator(up.config)
    gen.world, gen.now = up.world, up.moment()
    return gen


def _one(items: Iterable[T], match: Callable[[T], bool], missing: str) -> T:
    """The first item that matches, or the control plane's error saying what is not there."""
    found = next((item for item in items if match(item)), None)
    if found is None:
        raise MutationError(missing)
    return found


def _repo(up: FakeUpstream, params: dict[str, Any]) -> Repo:
    found = up.world.repo(str(_need(params, "repo")))
    if found is None:
        raise MutationError("no such repository")
    return found


def _project(up: FakeUpstream, params: dict[str, Any]) -> Project:
    found = up.world.project(str(_need(params, "project")))
    if found is None:
        raise MutationError("no such project")
    return found


def _pull(up: FakeUpstream, params: dict[str, Any]) -> PullRequest:
    repo, number = str(_need(params, "repo")), int(_need(params, "number"))
    missing = f"no pull request {repo}#{number}"
    return _one(up.world.pulls, lambda p: p.repo.full_name == repo and p.number == number, missing)


def _run(up: FakeUpstream, params: dict[str, Any]) -> WorkflowRun:
    run_id = int(_need(params, "id"))
    return _one(up.world.runs, lambda r: r.id == run_id, "no such workflow run")


def _mr(up: FakeUpstream, params: dict[str, Any]) -> MergeRequest:
    project = up.world.project(str(_need(params, "project")))
    iid = int(_need(params, "iid"))
    return _one(up.world.mrs, lambda m: m.project is project and m.iid == iid, "no such merge request")


def _pipeline(up: FakeUpstream, params: dict[str, Any]) -> Pipeline:
    pipeline_id = int(_need(params, "id"))
    return _one(up.world.pipelines, lambda p: p.id == pipeline_id, "no such pipeline")


def _jira(up: FakeUpstream, params: dict[str, Any]) -> JiraIssue:
    key = str(_need(params, "key")).upper()
    return _one(up.world.jira_issues, lambda i: i.key == key, f"no Jira issue {key}")


def apply(up: FakeUpstream, op: str, params: dict[str, Any]) -> dict[str, Any]:
    now = up.moment()
    rng = random.Random(f"{up.config.seed}/mutate/{len(up.world.pulls)}/{now.isoformat()}")
    if op == "github.update_pr":
        pr = _pull(up, params)
        pr.title = str(params.get("title", pr.title))
        pr.draft = bool(params.get("draft", pr.draft))
        if "requested_reviewers" in params:
            logins = {p.login: p.index for p in up.world.people}
            unknown = [r for r in params["requested_reviewers"] if r not in logins]
            if unknown:
                raise MutationError(f"unknown users {unknown}")
            pr.requested_reviewers = [logins[r] for r in params["requested_reviewers"]]
        if params.get("merge"):
            pr.state, pr.merged_at, pr.closed_at, pr.merged_by, pr.mergeable_state = "closed", now, now, 0, "unknown"
        elif "state" in params:
            if params["state"] not in ("open", "closed"):
                raise MutationError("state must be open or closed")
            pr.state = params["state"]
            pr.closed_at = now if pr.state == "closed" else None
        pr.updated_at = pr.repo.updated_at = now
        return {"op": op, "id": pr.id, "number": pr.number, "updated_at": iso_z(now)}
    if op == "github.add_pr":
        repo = _repo(up, params)
        pr = _generator(up).add_pull(rng, repo, now - timedelta(seconds=1))
        pr.state, pr.closed_at, pr.merged_at, pr.updated_at = "open", None, None, now
        pr.title = str(params.get("title", pr.title))
        return {"op": op, "id": pr.id, "number": pr.number, "updated_at": iso_z(now)}
    if op == "github.add_run":
        repo = _repo(up, params)
        status = params.get("status", "queued")
        if status not in RUN_STATES:
            raise MutationError(f"status must be one of {RUN_STATES}")
        number = 1 + max((r.run_number for r in up.world.runs if r.repo is repo), default=0)
        run = _generator(up).make_run(rng, repo, now, status, rng.randrange(len(names.WORKFLOWS)), number, "push")
        run.conclusion = params.get("conclusion", run.conclusion) if status == "completed" else None
        run.updated_at = now
        up.world.runs.append(run)
        return {"op": op, "id": run.id, "updated_at": iso_z(now)}
    if op == "github.update_run":
        run = _run(up, params)
        run.status = params.get("status", run.status)
        run.conclusion = params.get("conclusion", "success") if run.status == "completed" else None
        run.updated_at = now
        return {"op": op, "id": run.id, "updated_at": iso_z(now)}
    if op == "github.update_issue":
        full_name, number = str(_need(params, "repo")), int(_need(params, "number"))
        gh_issue = _one(
            up.world.gh_issues, lambda i: i.repo.full_name == full_name and i.number == number, "no such issue"
        )
        gh_issue.title = str(params.get("title", gh_issue.title))
        if "state" in params:
            gh_issue.state = params["state"]
            gh_issue.closed_at, gh_issue.state_reason = (
                (now, "completed") if gh_issue.state == "closed" else (None, None)
            )
        gh_issue.updated_at = now
        return {"op": op, "id": gh_issue.id, "number": gh_issue.number, "updated_at": iso_z(now)}
    if op == "gitlab.update_mr":
        mr = _mr(up, params)
        mr.title = str(params.get("title", mr.title))
        if "state" in params:
            mr.state = params["state"]
            if mr.state == "merged":
                mr.merged_at, mr.merged_by = now, 0
            elif mr.state == "closed":
                mr.closed_at, mr.closed_by = now, 0
        mr.updated_at = mr.project.last_activity_at = now
        return {"op": op, "id": mr.id, "iid": mr.iid, "updated_at": iso_z(now)}
    if op == "gitlab.add_pipeline":
        project = _project(up, params)
        pl = add_pipeline(_generator(up), rng, project, now, params.get("status", "running"))
        pl.updated_at = project.last_activity_at = now
        return {"op": op, "id": pl.id, "status": pl.status, "updated_at": iso_z(now)}
    if op == "gitlab.update_pipeline":
        pl = _pipeline(up, params)
        pl.status = str(_need(params, "status"))
        if pl.status in ("running",) and pl.started_at is None:
            pl.started_at = now
        if pl.status in DONE_PIPELINES:
            pl.started_at = pl.started_at or now
            pl.finished_at = now
        pl.updated_at = now
        return {"op": op, "id": pl.id, "status": pl.status, "updated_at": iso_z(now)}
    if op == "jira.update_issue":
        issue = _jira(up, params)
        issue.summary = str(params.get("summary", issue.summary))
        if "status" in params:
            status = next((s for s in names.JIRA_STATUSES if s[0].lower() == str(params["status"]).lower()), None)
            if status is None:
                raise MutationError("unknown status")
            issue.status = status
            issue.resolutiondate = now if status[1] == "done" else None
        issue.updated = now
        return {"op": op, "key": issue.key, "updated": iso_z(now)}
    if op == "jira.add_issue":
        project_key = str(_need(params, "project")).upper()
        jira_project = _one(up.world.jira_projects, lambda p: p.key == project_key, "no such Jira project")
        added = _generator(up).add_jira_issue(rng, jira_project, now - timedelta(seconds=1))
        added.updated = now
        return {"op": op, "key": added.key, "updated": iso_z(now)}
    raise MutationError(f"unknown operation {op!r}")


def tick(up: FakeUpstream, rng: random.Random) -> dict[str, Any]:
    """One plausible event: CI moving on, a review landing, a ticket changing state."""
    world = up.world
    choice = rng.randrange(5)
    active_runs = [r for r in world.runs if r.status != "completed"]
    if choice == 0 and active_runs:
        run = rng.choice(active_runs)
        status = "in_progress" if run.status == "queued" else "completed"
        return up.mutate("github.update_run", id=run.id, status=status, conclusion=rng.choice(("success", "failure")))
    if choice == 1:
        return up.mutate("github.add_run", repo=rng.choice(world.repos).full_name)
    if choice == 2:
        open_prs = [p for p in world.pulls if p.state == "open"]
        if open_prs:
            pr = rng.choice(open_prs)
            return up.mutate("github.update_pr", repo=pr.repo.full_name, number=pr.number, merge=rng.random() < 0.5)
    if choice == 3 and world.projects:
        return up.mutate("gitlab.add_pipeline", project=str(rng.choice(world.projects).id))
    if world.jira_issues:
        issue = rng.choice(world.jira_issues)
        return up.mutate("jira.update_issue", key=issue.key, status=rng.choice(names.JIRA_STATUSES)[0])
    return {}


@contextlib.asynccontextmanager
async def run_activity(up: FakeUpstream, interval: float | None) -> AsyncIterator[None]:
    if not interval:
        yield
        return
    rng = random.Random(f"{up.config.seed}/activity")

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            tick(up, rng)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
