"""GitLab part of the generated world: groups, projects, merge requests, pipelines and issues."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hyperpage.demo import names
from hyperpage.demo.world import GlIssue, Group, MergeRequest, Pipeline, Project

if TYPE_CHECKING:
    from hyperpage.demo.generate import Generator


def build_gitlab(gen: Generator) -> None:
    from hyperpage.demo.generate import PIPELINE_ACTIVE_STATES, ascii_slug

    rng, w, cfg = gen.rng("gitlab"), gen.world, gen.config
    group_paths = rng.sample(
        [f"{a}-{b}" for a in names.ORG_WORDS for b in ("team", "group", "eng")], k=cfg.gitlab_groups
    )
    for i, path in enumerate(group_paths):
        w.groups.append(Group(id=300 + i, name=path.replace("-", " ").title(), path=path))
    project_paths = rng.sample([f"{a}-{b}" for a in names.REPO_WORDS for b in names.REPO_SUFFIXES], k=cfg.projects)
    for i, path in enumerate(project_paths):
        created = gen.now - timedelta(days=rng.randint(200, 1200))
        project = Project(
            id=4_000 + i * 13,
            group=w.groups[i % len(w.groups)],
            name=path.replace("-", " ").title(),
            path=path,
            description=f"{path.replace('-', ' ')} (GitLab)",
            default_branch="main",
            created_at=created,
            last_activity_at=created,
            members=gen.members(rng),
        )
        w.projects.append(project)
        for created_at in sorted(gen.when(rng) for _ in range(cfg.mrs_per_project)):
            add_mr(gen, rng, project, created_at, ascii_slug)
        for created_at in sorted(gen.when(rng) for _ in range(cfg.gitlab_issues_per_project)):
            add_gl_issue(gen, rng, project, created_at)
        starts = sorted(gen.when(rng, 21) for _ in range(cfg.pipelines_per_project))
        for k, created_at in enumerate(starts):
            # The newest pipelines are still running or waiting, like a busy project's.
            active = k >= len(starts) - 2
            if active:
                created_at = (gen.now - timedelta(seconds=rng.randint(20, 900))).replace(microsecond=0)
            add_pipeline(gen, rng, project, created_at, rng.choice(PIPELINE_ACTIVE_STATES) if active else None)
        stamps = [m.updated_at for m in w.mrs if m.project is project] + [
            p.updated_at for p in w.pipelines if p.project is project
        ]
        project.last_activity_at = max(stamps, default=created)


def add_mr(
    gen: Generator, rng: random.Random, project: Project, created: datetime, slug: Callable[[str], str]
) -> MergeRequest:
    age_days = (gen.now - created).total_seconds() / 86400
    roll = rng.random()
    open_share = 0.6 if age_days < 7 else 0.12
    if roll < open_share:
        state = "opened"
    elif roll < 0.97:
        state = "merged" if rng.random() < 0.82 else "closed"
    else:
        state = "locked"
    author = rng.choice(project.members)
    title = gen.title(rng, bug=rng.random() < 0.2)
    draft = state == "opened" and rng.random() < 0.2
    mr = MergeRequest(
        id=gen.world.new_id(),
        project=project,
        iid=project.next_mr_iid,
        title=f"Draft: {title}" if draft else title,
        description="\n\n".join(gen.body(rng)),
        state=state,
        draft=draft,
        author=author,
        assignees=[author] if rng.random() < 0.6 else [],
        reviewers=gen.others(rng, project.members, author, rng.randint(0, 2)),
        labels=[lb for lb, _ in rng.sample(names.LABELS, k=rng.randint(0, 2))],
        source_branch=f"{rng.choice(names.BRANCH_PREFIXES)}/{slug(title)[:40]}",
        target_branch=project.default_branch,
        sha=f"{rng.getrandbits(160):040x}",
        created_at=created,
        updated_at=gen.after(rng, created, 72),
        user_notes_count=rng.randint(0, 15),
    )
    project.next_mr_iid += 1
    if state == "opened":
        mr.detailed_merge_status = (
            "draft_status"
            if draft
            else rng.choice(
                ("mergeable", "mergeable", "not_approved", "ci_still_running", "conflict", "discussions_not_resolved")
            )
        )
    else:
        done = gen.after(rng, created, 120)
        mr.updated_at = max(mr.updated_at, done)
        mr.detailed_merge_status = "not_open"
        if state == "merged":
            mr.merged_at, mr.merged_by = done, rng.choice(project.members)
        elif state == "closed":
            mr.closed_at, mr.closed_by = done, rng.choice(project.members)
    gen.world.mrs.append(mr)
    return mr


def add_gl_issue(gen: Generator, rng: random.Random, project: Project, created: datetime) -> GlIssue:
    closed = rng.random() < 0.45
    issue = GlIssue(
        id=gen.world.new_id(),
        project=project,
        iid=project.next_issue_iid,
        title=gen.title(rng, bug=rng.random() < 0.5),
        description="\n\n".join(gen.body(rng)),
        state="closed" if closed else "opened",
        author=rng.choice(project.members),
        assignees=rng.sample(project.members, k=rng.randint(0, 2)),
        labels=[lb for lb, _ in rng.sample(names.LABELS, k=rng.randint(0, 2))],
        created_at=created,
        updated_at=gen.after(rng, created, 200),
        user_notes_count=rng.randint(0, 10),
    )
    project.next_issue_iid += 1
    if closed:
        issue.closed_at, issue.closed_by = issue.updated_at, rng.choice(project.members)
    gen.world.gl_issues.append(issue)
    return issue


def add_pipeline(
    gen: Generator, rng: random.Random, project: Project, created: datetime, status: str | None = None
) -> Pipeline:
    from hyperpage.demo.generate import PIPELINE_DONE, weighted

    status = status or weighted(rng, PIPELINE_DONE)
    mrs = [m for m in gen.world.mrs if m.project is project]
    source = rng.choice(names.GITLAB_SOURCES)
    mr = rng.choice(mrs) if mrs and source == "merge_request_event" else None
    queued = round(rng.uniform(0.5, 40.0), 3)
    started: datetime | None = None
    finished: datetime | None = None
    if status not in ("created", "pending", "waiting_for_resource", "preparing", "scheduled", "manual", "skipped"):
        started = min(created + timedelta(seconds=int(queued) + 1), gen.now)
    if status in ("success", "failed", "canceled") and started is not None:
        finished = gen.after(rng, started, 0.5)
    pipeline = Pipeline(
        id=gen.world.new_id() + 200_000_000,
        project=project,
        iid=project.next_pipeline_iid,
        status=status,
        source=source,
        ref=mr.source_branch if mr else project.default_branch,
        sha=mr.sha if mr else f"{rng.getrandbits(160):040x}",
        user=rng.choice(project.members),
        created_at=created,
        updated_at=finished or started or created,
        started_at=started,
        finished_at=finished,
        queued_duration=queued if started else None,
    )
    project.next_pipeline_iid += 1
    gen.world.pipelines.append(pipeline)
    return pipeline
