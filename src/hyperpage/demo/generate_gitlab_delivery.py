"""How the generated GitLab projects ship, and the Jira incidents that follow: what docs/insights.md measures.

Drawn from its own `random.Random(f"{seed}/gitlab-delivery")` after every other section (ids too), so nothing
generated before it changes. Per project:
- each merge request's commits (the first before it was opened) and notes: "marked this merge request as
  **ready**" when it was opened as a draft, comments by a project access token's bot, by the author and by
  reviewers, and "approved this merge request" system notes;
- a default-branch history of the merged requests' merge commits plus direct pushes (generate_delivery.history);
- deployments to `staging` (tier staging) and `production` (tier production) of the branch head every few
  hours/days, some failed (now and then rolled back), the newest maybe still running or canceled;
- incidents after some production deployments: GitLab incidents (`issue_type` incident) or issues labelled
  `incident`, and Jira issues of type Incident in the first Jira project (some resolved by a workflow that sets
  no resolution: only their status category changed to done).
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hyperpage.demo import names
from hyperpage.demo.generate_delivery import Deploy, deployment_times, history
from hyperpage.demo.world import Commit, GlDeployment, GlIssue, GlNote, JiraIssue, JiraProject, MergeRequest, Project

if TYPE_CHECKING:
    from hyperpage.demo.generate import Generator

READY_NOTE = "marked this merge request as **ready**"
APPROVED_NOTE = "approved this merge request"
# (environment, tier, hours between deployments: min, max, share of failures)
ENVIRONMENTS = (("staging", "staging", 3.0, 12.0, 0.12), ("production", "production", 10.0, 40.0, 0.15))
INCIDENT_LABEL = "incident"


def build_gitlab_delivery(gen: Generator) -> None:
    rng = gen.rng("gitlab-delivery")
    for project in gen.world.projects:
        _project(gen, rng, project)


def _project(gen: Generator, rng: random.Random, project: Project) -> None:
    merges = []
    for mr in (m for m in gen.world.mrs if m.project is project):
        _commits_and_notes(gen, rng, project, mr)
        if mr.merge_commit_sha and mr.merged_at:
            message = f"Merge branch '{mr.source_branch}' into '{mr.target_branch}'"
            merges.append(Commit(mr.merge_commit_sha, message, mr.author, mr.merged_at))
    branch = history(gen, rng, project.members, merges)
    gen.world.gl_commits[project.id] = branch
    for environment, tier, low, high, failures in ENVIRONMENTS:
        deployment_times(gen, rng, branch, (low, high), failures, _deployer(gen, rng, project, environment, tier))
    _incidents(gen, rng, project)


def _commits_and_notes(gen: Generator, rng: random.Random, project: Project, mr: MergeRequest) -> None:
    first = (mr.created_at - timedelta(minutes=rng.uniform(5, 72 * 60))).replace(microsecond=0)
    span = (mr.created_at - first).total_seconds()
    later = [first + timedelta(seconds=int(rng.uniform(0, span))) for _ in range(rng.randint(0, 3))]
    mr.commits = [
        Commit(sha=f"{rng.getrandbits(160):040x}", message=gen.title(rng), author=mr.author, authored_at=t)
        for t in sorted([first, *later])
    ]
    mr.commits[-1].sha = mr.sha  # the head
    end = mr.merged_at or mr.closed_at or gen.now
    ready = mr.created_at
    if not mr.draft and rng.random() < 0.25:  # opened as a draft, marked ready later
        ready = min(gen.after(rng, mr.created_at, 48), end)
        mr.notes.append(_note(gen, mr.author, READY_NOTE, True, ready))
    if rng.random() < 0.15:  # a review bot (a project access token's user)
        bot = f"project_{project.id}_bot_{rng.getrandbits(32):08x}"
        mr.notes.append(_note(gen, None, "Automated review: no issues found.", False, gen.after(rng, ready, 0.2), bot))
    if rng.random() < 0.1:  # the author answering in their own thread: never the "first review"
        mr.notes.append(_note(gen, mr.author, "Pushed a fix.", False, gen.after(rng, ready, 6)))
    if not mr.draft and rng.random() < 0.85:
        moment = ready
        for reviewer in gen.others(rng, project.members, mr.author, rng.randint(1, 2)):
            moment = min(gen.after(rng, moment, 20), end)
            if rng.random() < 0.6:
                mr.notes.append(_note(gen, reviewer, "Looks good, one question inline.", False, moment))
            if mr.merged_at:
                approved = min(moment + timedelta(minutes=5), end)
                mr.notes.append(_note(gen, reviewer, APPROVED_NOTE, True, approved))
    mr.notes.sort(key=lambda n: (n.created_at, n.id))


def _note(gen: Generator, author: int | None, body: str, system: bool, at: datetime, bot: str | None = None) -> GlNote:
    return GlNote(
        id=gen.world.new_id() + 4_000_000_000, author=author, body=body, system=system, created_at=at, bot=bot
    )


def _deployer(gen: Generator, rng: random.Random, project: Project, environment: str, tier: str) -> Deploy:
    def deploy(sha: str, at: datetime, failed: bool, description: str) -> None:
        del description  # GitLab deployments carry none; a rollback is just an older sha deployed again
        _deploy(gen, rng, project, environment, tier, sha, at, failed)

    return deploy


def _deploy(
    gen: Generator,
    rng: random.Random,
    project: Project,
    environment: str,
    tier: str,
    sha: str,
    at: datetime,
    failed: bool,
) -> None:
    at = at.replace(microsecond=0)
    finished = at + timedelta(seconds=rng.randint(60, 900))
    status = "failed" if failed else ("success" if rng.random() < 0.97 else "canceled")
    if finished > gen.now:
        status, finished_at = "running", None
    else:
        finished_at = finished
    iid = 1 + sum(1 for d in gen.world.gl_deployments if d.project is project)
    user = rng.choice(project.members)
    deployment = GlDeployment(
        gen.world.new_id() + 5_000_000_000, iid, project, environment, tier, sha, user, status, at
    )
    deployment.finished_at = finished_at
    gen.world.gl_deployments.append(deployment)


def _incidents(gen: Generator, rng: random.Random, project: Project) -> None:
    """Each kind in turn (a GitLab incident, an issue labelled `incident`, a Jira incident), so that even a small
    world has every kind the sync reads."""
    jira = gen.world.jira_projects[0] if gen.world.jira_projects else None
    kinds = itertools.cycle(("incident", "label", "jira") if jira else ("incident", "label"))
    for deployment in [d for d in gen.world.gl_deployments if d.project is project and d.tier == "production"]:
        if rng.random() >= (0.4 if deployment.status == "failed" else 0.1):
            continue
        opened = gen.after(rng, deployment.created_at, 6)
        resolved = (opened + timedelta(minutes=rng.uniform(20, 36 * 60))).replace(microsecond=0)
        closed = resolved <= gen.now and rng.random() < 0.9
        title = f"Incident: {rng.choice(names.BUG_OPENERS).lower()} {rng.choice(names.BUG_SITUATIONS)}"
        kind = next(kinds)
        if kind == "jira" and jira is not None:
            _jira_incident(gen, rng, jira, title, opened, resolved if closed else None)
            continue
        gen.world.gl_issues.append(
            GlIssue(
                id=gen.world.new_id(),
                project=project,
                iid=project.next_issue_iid,
                title=title,
                description=f"Seen in production after deploying {deployment.sha[:8]}.",
                state="closed" if closed else "opened",
                author=rng.choice(project.members),
                assignees=[rng.choice(project.members)],
                labels=[INCIDENT_LABEL] if kind == "label" else [],
                created_at=opened,
                updated_at=resolved if closed else opened,
                closed_at=resolved if closed else None,
                issue_type="incident" if kind == "incident" else "issue",
            )
        )
        project.next_issue_iid += 1


def _jira_incident(
    gen: Generator, rng: random.Random, project: JiraProject, title: str, opened: datetime, resolved: datetime | None
) -> None:
    done = ("Done", "done", 3, "Done")
    issue = JiraIssue(
        id=gen.world.new_id(),
        project=project,
        number=project.next_number,
        summary=title,
        paragraphs=["Customers see errors since the last production deployment."],
        status=done if resolved else ("In Progress", "indeterminate", 4, "In Progress"),
        issuetype="Incident",
        priority="Highest",
        assignee=(assignee := rng.randrange(gen.config.people)),
        reporter=(reporter := rng.randrange(gen.config.people)),
        watchers=sorted({assignee, reporter}),
        labels=["production"],
        created=opened,
        updated=resolved or opened,
        # a workflow without a resolution screen leaves resolutiondate empty: only the category change says when
        resolutiondate=resolved if project.next_number % 2 else None,
        status_changed=resolved,
    )
    project.next_number += 1
    gen.world.jira_issues.append(issue)
