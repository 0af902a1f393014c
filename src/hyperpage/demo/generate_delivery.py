"""How the generated GitHub repositories ship: review timelines, commit history, deployments, reverts, incidents.

Drawn from its own `random.Random(f"{seed}/delivery")` after the GitHub section, so it does not reshuffle the
pull requests, issues and runs generated before it. What it produces is what docs/insights.md measures:
- each pull request's first commit (before it was opened), draft -> ready events, reviews by others, by a bot
  and now and then by the author;
- a default-branch history: each merged pull request's merge commit plus a few direct pushes;
- deployments to `staging` and `production` of the branch head every few hours/days, most successful, some
  failing (followed now and then by a rollback: the previous good sha deployed again);
- revert pull requests (title `Revert "..."`, body `Reverts owner/repo#N`, as GitHub's revert button writes);
- issues labelled `incident` opened within hours after some production deployments, most resolved later.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hyperpage.demo import names
from hyperpage.demo.world import Commit, Deployment, DeploymentStatus, GhIssue, PullRequest, Repo, Review

if TYPE_CHECKING:
    from hyperpage.demo.generate import Generator

BOTS = ("copilot-pull-request-reviewer", "coderabbitai")
INCIDENT_LABEL = "incident"
# (environment, production, hours between deployments: min, max, share of failures)
ENVIRONMENTS = (("staging", False, 3.0, 12.0, 0.12), ("production", True, 10.0, 40.0, 0.15))


def build_delivery(gen: Generator) -> None:
    rng = gen.rng("delivery")
    for repo in gen.world.repos:
        pulls = [p for p in gen.world.pulls if p.repo is repo]
        for pr in pulls:
            _timeline(gen, rng, repo, pr)
        _reverts(rng, pulls)
        history = _history(gen, rng, repo, pulls)
        gen.world.commits[repo.id] = history
        for environment, production, low, high, failures in ENVIRONMENTS:
            _deployments(gen, rng, repo, history, environment, production, (low, high), failures)
        _incidents(gen, rng, repo)


def _timeline(gen: Generator, rng: random.Random, repo: Repo, pr: PullRequest) -> None:
    pr.first_commit_at = (pr.created_at - timedelta(minutes=rng.uniform(5, 72 * 60))).replace(microsecond=0)
    end = pr.closed_at or gen.now
    ready = pr.created_at
    if pr.draft:  # still a draft: opened as one, or converted back after a first ready
        if rng.random() < 0.3:
            ready_at = gen.after(rng, pr.created_at, 24)
            pr.timeline += [("ReadyForReviewEvent", ready_at), ("ConvertToDraftEvent", gen.after(rng, ready_at, 24))]
        return
    if rng.random() < 0.25:  # opened as a draft, marked ready later
        ready = min(gen.after(rng, pr.created_at, 48), end)
        pr.timeline.append(("ReadyForReviewEvent", ready))
    if rng.random() < 0.15:
        pr.reviews.append(_review(gen, rng, None, "COMMENTED", gen.after(rng, ready, 0.2), rng.choice(BOTS)))
    if rng.random() < 0.1:  # the author answering in a review of their own: never the "first review"
        pr.reviews.append(_review(gen, rng, pr.user, "COMMENTED", gen.after(rng, ready, 6)))
    if rng.random() < 0.85:
        reviewers = gen.others(rng, repo.members, pr.user, rng.randint(1, 2))
        moment = ready
        for reviewer in reviewers:
            moment = min(gen.after(rng, moment, 20), end)
            state = "APPROVED" if pr.merged_at or rng.random() < 0.5 else rng.choice(("CHANGES_REQUESTED", "COMMENTED"))
            pr.reviews.append(_review(gen, rng, reviewer, state, moment))
    pr.reviews.sort(key=lambda r: (r.submitted_at, r.id))


def _review(
    gen: Generator, rng: random.Random, user: int | None, state: str, at: datetime, bot: str | None = None
) -> Review:
    return Review(id=gen.world.new_id() + 2_000_000_000, user=user, state=state, submitted_at=at, bot_login=bot)


def _reverts(rng: random.Random, pulls: list[PullRequest]) -> None:
    """Turn a few merged pull requests into reverts of an earlier merged one."""
    merged = sorted((p for p in pulls if p.merged_at), key=lambda p: p.merged_at or p.created_at)
    for index, reverted in enumerate(merged[:-1]):
        if rng.random() >= 0.06:
            continue
        later = [p for p in merged[index + 1 :] if p.created_at > (reverted.merged_at or p.created_at)]
        later = [p for p in later if not p.title.startswith("Revert ")]
        if later:
            revert = later[0]
            revert.title = f'Revert "{reverted.title}"'
            revert.body = f"Reverts {reverted.repo.full_name}#{reverted.number}"
            revert.head_ref = f"revert-{reverted.number}-{reverted.head_ref.split('/')[-1]}"[:60]


def _history(gen: Generator, rng: random.Random, repo: Repo, pulls: list[PullRequest]) -> list[Commit]:
    merges = [
        Commit(sha=p.merge_sha, message=f"{p.title} (#{p.number})", author=p.merged_by or p.user, authored_at=when)
        for p in pulls
        if p.merge_sha and (when := p.merged_at) is not None
    ]
    return history(gen, rng, repo.members, merges)


def history(gen: Generator, rng: random.Random, members: list[int], merges: list[Commit]) -> list[Commit]:
    """A default branch: the merge commits plus a few direct pushes, oldest first."""
    commits = list(merges)
    for _ in range(max(1, len(commits) // 8)):  # direct pushes to the default branch
        commits.append(
            Commit(
                sha=f"{rng.getrandbits(160):040x}",
                message=gen.title(rng),
                author=rng.choice(members),
                authored_at=gen.when(rng),
            )
        )
    commits.sort(key=lambda c: (c.authored_at, c.sha))
    return commits


def _deployments(
    gen: Generator,
    rng: random.Random,
    repo: Repo,
    history: list[Commit],
    environment: str,
    production: bool,
    gap_hours: tuple[float, float],
    failure_share: float,
) -> None:
    def deploy(sha: str, at: datetime, failed: bool, description: str) -> None:
        _deploy(gen, rng, repo, environment, production, sha, at, failed, description)

    deployment_times(gen, rng, history, gap_hours, failure_share, deploy)


Deploy = Callable[[str, datetime, bool, str], None]


def deployment_times(
    gen: Generator,
    rng: random.Random,
    history: list[Commit],
    gap_hours: tuple[float, float],
    failure_share: float,
    deploy: Deploy,
) -> None:
    """Deploy the branch head every few hours over the history window: `deploy(sha, at, failed, description)`;
    a failure is followed now and then by a rollback to the last good sha."""
    moment = gen.now - timedelta(days=gen.config.history_days) + timedelta(hours=rng.uniform(*gap_hours))
    last_good: str | None = None
    previous: str | None = None
    while moment < gen.now - timedelta(minutes=5):
        head = next((c.sha for c in reversed(history) if c.authored_at <= moment), None)
        if head is not None and head != previous:
            failed = rng.random() < failure_share
            deploy(head, moment, failed, "")
            previous = head
            if failed and last_good is not None and rng.random() < 0.5:  # roll back to the last good sha
                moment = gen.after(rng, moment, 1)
                deploy(last_good, moment, False, "Rollback")
                previous = last_good
            elif not failed:
                last_good = head
        moment += timedelta(hours=rng.uniform(*gap_hours))


def _deploy(
    gen: Generator,
    rng: random.Random,
    repo: Repo,
    environment: str,
    production: bool,
    sha: str,
    at: datetime,
    failed: bool,
    description: str = "",
) -> None:
    at = at.replace(microsecond=0)
    started = at + timedelta(seconds=rng.randint(5, 60))
    finished = started + timedelta(seconds=rng.randint(60, 900))
    final = ("failure" if rng.random() < 0.8 else "error") if failed else "success"
    deployment = Deployment(
        id=gen.world.new_id() + 3_000_000_000,
        repo=repo,
        environment=environment,
        sha=sha,
        ref=repo.default_branch,
        creator=rng.choice(repo.members),
        created_at=at,
        production=production,
        description=description or f"Deploy {sha[:7]} to {environment}",
    )
    deployment.statuses.append(DeploymentStatus(gen.world.new_id(), "in_progress", started))
    if finished <= gen.now:
        deployment.statuses.append(DeploymentStatus(gen.world.new_id(), final, finished))
    gen.world.deployments.append(deployment)


def _incidents(gen: Generator, rng: random.Random, repo: Repo) -> None:
    deployments = [d for d in gen.world.deployments if d.repo is repo and d.production]
    for deployment in deployments:
        failed = any(s.state in ("failure", "error") for s in deployment.statuses)
        if rng.random() >= (0.35 if failed else 0.08):
            continue
        opened = gen.after(rng, deployment.created_at, 6)
        resolved = opened + timedelta(minutes=rng.uniform(20, 36 * 60))
        closed = resolved <= gen.now and rng.random() < 0.9
        issue = GhIssue(
            id=gen.world.new_id(),
            repo=repo,
            number=repo.next_number,
            title=f"Incident: {rng.choice(names.BUG_OPENERS).lower()} {rng.choice(names.BUG_SITUATIONS)}",
            body=f"Seen in production after deploying {deployment.sha[:7]}.",
            state="closed" if closed else "open",
            state_reason="completed" if closed else None,
            user=rng.choice(repo.members),
            labels=[INCIDENT_LABEL],
            assignees=[rng.choice(repo.members)],
            created_at=opened,
            updated_at=resolved.replace(microsecond=0) if closed else opened,
            closed_at=resolved.replace(microsecond=0) if closed else None,
        )
        repo.next_number += 1
        gen.world.gh_issues.append(issue)
