"""Deterministic generation of the fake upstream's world from a seed.

Each section (people, GitHub, GitLab, Jira) draws from its own `random.Random(f"{seed}/{section}")`, so
changing the size of one section does not reshuffle the others. Timestamps are spread over the
`history_days` before the anchor; recent items are more often open or running, old ones closed or done,
as in a real team's history.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from datetime import datetime, timedelta

from hyperpage.demo import names
from hyperpage.demo.config import FakeUpstreamConfig
from hyperpage.demo.world import GhIssue, JiraIssue, JiraProject, Org, Person, PullRequest, Repo, WorkflowRun, World

RUN_CONCLUSIONS = (
    ("success", 70),
    ("failure", 12),
    ("cancelled", 6),
    ("skipped", 4),
    ("neutral", 1),
    ("timed_out", 2),
    ("action_required", 2),
)
PIPELINE_DONE = (("success", 70), ("failed", 15), ("canceled", 8), ("skipped", 4), ("manual", 3))
PIPELINE_ACTIVE_STATES = ("running", "running", "pending", "created", "waiting_for_resource", "preparing", "scheduled")


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


class Generator:
    def __init__(self, config: FakeUpstreamConfig) -> None:
        self.config = config
        self.now = config.anchor()
        self.world = World()

    def rng(self, section: str) -> random.Random:
        return random.Random(f"{self.config.seed}/{section}")

    def when(self, rng: random.Random, oldest_days: float | None = None) -> datetime:
        span = (oldest_days or self.config.history_days) * 86400
        return (self.now - timedelta(seconds=rng.uniform(3600, span))).replace(microsecond=0)

    def after(self, rng: random.Random, start: datetime, max_hours: float) -> datetime:
        end = start + timedelta(seconds=rng.uniform(60, max_hours * 3600))
        return min(end, self.now).replace(microsecond=0)

    def title(self, rng: random.Random, bug: bool = False) -> str:
        if bug:
            return f"{rng.choice(names.BUG_OPENERS)} {rng.choice(names.BUG_SITUATIONS)}"
        return f"{rng.choice(names.VERBS)} {rng.choice(names.OBJECTS)}{rng.choice(names.QUALIFIERS)}"

    def body(self, rng: random.Random) -> list[str]:
        return rng.sample(names.PARAGRAPHS, k=rng.randint(1, 3))

    def others(self, rng: random.Random, members: list[int], exclude: int, k: int) -> list[int]:
        pool = [m for m in members if m != exclude]
        return rng.sample(pool, k=min(k, len(pool)))

    def build(self) -> World:
        self.people()
        self.github()
        self.delivery()
        self.gitlab()
        self.jira()
        self.gitlab_delivery()
        return self.world

    def people(self) -> None:
        rng = self.rng("people")
        pairs = [(f, la) for f in names.FIRST_NAMES for la in names.LAST_NAMES]
        for i, (first, last) in enumerate(rng.sample(pairs, k=self.config.people)):
            self.world.people.append(
                Person(
                    index=i,
                    login=ascii_slug(f"{first}-{last}"),
                    name=f"{first} {last}",
                    email=f"{ascii_slug(first)}.{ascii_slug(last)}@example.com".replace("-", ""),
                    github_id=5_100_000 + i * 37,
                    gitlab_id=1_200 + i,
                    jira_account_id=f"712020:{uuid.UUID(int=rng.getrandbits(128))}",
                )
            )

    def members(self, rng: random.Random) -> list[int]:
        # The demo user (person 0) is on every team so "involves me" views are never empty.
        return [0, *rng.sample(range(1, self.config.people), k=min(7, self.config.people - 1))]

    def github(self) -> None:
        rng, w, cfg = self.rng("github"), self.world, self.config
        orgs = rng.sample([f"{a}-{b}" for a in names.ORG_WORDS for b in names.ORG_SUFFIXES], k=cfg.github_orgs)
        for i, login in enumerate(orgs):
            w.orgs.append(Org(login=login, id=90_000_000 + i, name=login.replace("-", " ").title()))
        repo_names = rng.sample([f"{a}-{b}" for a in names.REPO_WORDS for b in names.REPO_SUFFIXES], k=cfg.repos)
        if len(repo_names) >= 3:
            # Real repository names go up to 100 characters; an `owner/name#number` key then passes 77.
            repo_names[-1] = (repo_names[-1] + "-" + "-".join(names.REPO_WORDS))[:90].rstrip("-")
        for i, name in enumerate(repo_names):
            created = self.now - timedelta(days=rng.randint(200, 1500))
            repo = Repo(
                id=600_000_000 + i * 7919,
                owner=w.orgs[i % len(w.orgs)],
                name=name,
                description=f"The {name.replace('-', ' ')} of the platform",
                language=rng.choice(names.LANGUAGES),
                default_branch="main",
                created_at=created,
                updated_at=created,
                pushed_at=created,
                private=rng.random() < 0.6,
                members=self.members(rng),
            )
            w.repos.append(repo)
            n_prs = cfg.big_repo_prs if i == 0 and cfg.big_repo_prs else cfg.prs_per_repo
            # PRs and issues share one number sequence per repository, as on GitHub.
            items = [("pr", self.when(rng)) for _ in range(n_prs)]
            items += [("issue", self.when(rng)) for _ in range(cfg.issues_per_repo)]
            for kind, created_at in sorted(items, key=lambda x: x[1]):
                (self.add_pull if kind == "pr" else self.add_gh_issue)(rng, repo, created_at)
            self.add_runs(rng, repo)
            stamps = [p.updated_at for p in w.pulls if p.repo is repo] + [
                r.updated_at for r in w.runs if r.repo is repo
            ]
            repo.updated_at = repo.pushed_at = max(stamps, default=created)
        if len(w.repos) >= 2:
            # A renamed repository: its old name answers 301 to /repositories/{id}.
            w.renamed[f"{w.repos[1].full_name}-legacy".lower()] = w.repos[1]

    def add_pull(self, rng: random.Random, repo: Repo, created: datetime) -> PullRequest:
        age_days = (self.now - created).total_seconds() / 86400
        roll = rng.random()
        open_share = 0.6 if age_days < 7 else 0.12
        state = "open" if roll < open_share else ("merged" if roll < open_share + (1 - open_share) * 0.8 else "closed")
        author = rng.choice(repo.members)
        title = self.title(rng, bug=rng.random() < 0.2)
        pr = PullRequest(
            id=self.world.new_id(),
            repo=repo,
            number=repo.next_number,
            title=title,
            body="\n\n".join(self.body(rng)),
            state="open" if state == "open" else "closed",
            draft=state == "open" and rng.random() < 0.2,
            user=author,
            labels=[lb for lb, _ in rng.sample(names.LABELS, k=rng.randint(0, 2))],
            requested_reviewers=self.others(rng, repo.members, author, rng.randint(0, 2)) if state == "open" else [],
            assignees=[author] if rng.random() < 0.5 else [],
            head_ref=f"{rng.choice(names.BRANCH_PREFIXES)}/{ascii_slug(title)[:40]}",
            base_ref=repo.default_branch,
            head_sha=sha(rng),
            created_at=created,
            updated_at=self.after(rng, created, 72),
            comments=rng.randint(0, 9),
            review_comments=rng.randint(0, 14),
            commits=rng.randint(1, 12),
            additions=rng.randint(1, 900),
            deletions=rng.randint(0, 400),
            changed_files=rng.randint(1, 30),
        )
        repo.next_number += 1
        if state == "open":
            pr.mergeable_state = (
                "draft" if pr.draft else rng.choice(("clean", "clean", "blocked", "behind", "dirty", "unstable"))
            )
        else:
            pr.closed_at = self.after(rng, created, 120)
            pr.updated_at = max(pr.updated_at, pr.closed_at)
            pr.mergeable_state = "unknown"
            if state == "merged":
                pr.merged_at, pr.merged_by = pr.closed_at, rng.choice(repo.members)
        self.world.pulls.append(pr)
        return pr

    def add_gh_issue(self, rng: random.Random, repo: Repo, created: datetime) -> GhIssue:
        closed = rng.random() < 0.45
        issue = GhIssue(
            id=self.world.new_id(),
            repo=repo,
            number=repo.next_number,
            title=self.title(rng, bug=rng.random() < 0.5),
            body="\n\n".join(self.body(rng)),
            state="closed" if closed else "open",
            state_reason=rng.choice(("completed", "completed", "not_planned")) if closed else None,
            user=rng.choice(repo.members),
            labels=[lb for lb, _ in rng.sample(names.LABELS, k=rng.randint(0, 2))],
            assignees=rng.sample(repo.members, k=rng.randint(0, 2)),
            created_at=created,
            updated_at=self.after(rng, created, 200),
            comments=rng.randint(0, 12),
        )
        repo.next_number += 1
        if closed:
            issue.closed_at = issue.updated_at
        self.world.gh_issues.append(issue)
        return issue

    def add_runs(self, rng: random.Random, repo: Repo) -> None:
        count = self.config.runs_per_repo
        starts = sorted(self.when(rng, 21) for _ in range(count))
        # The newest two runs are still going, so the demo always shows queued / in-progress work.
        if count >= 2:
            starts[-1] = (self.now - timedelta(seconds=rng.randint(5, 60))).replace(microsecond=0)
            starts[-2] = (self.now - timedelta(seconds=rng.randint(90, 600))).replace(microsecond=0)
        numbers: dict[str, int] = {}
        for k, created in enumerate(starts):
            wf_index = rng.randrange(len(names.WORKFLOWS))
            name, _, events = names.WORKFLOWS[wf_index]
            numbers[name] = numbers.get(name, 0) + 1
            status = "queued" if k == count - 1 else ("in_progress" if k == count - 2 else "completed")
            run = self.make_run(rng, repo, created, status, wf_index, numbers[name], rng.choice(events))
            if k == 0 and status == "completed":  # every repository shows one run waiting for approval
                run.conclusion, run.updated_at = "action_required", run.run_started_at - timedelta(seconds=25)
            self.world.runs.append(run)

    def make_run(
        self, rng: random.Random, repo: Repo, created: datetime, status: str, wf_index: int, number: int, event: str
    ) -> WorkflowRun:
        name, path, _ = names.WORKFLOWS[wf_index]
        pr = rng.choice([p for p in self.world.pulls if p.repo is repo] or [None])
        branch = pr.head_ref if pr is not None and event == "pull_request" else repo.default_branch
        started = created + timedelta(seconds=rng.randint(2, 40)) if status != "queued" else created
        conclusion = weighted(rng, RUN_CONCLUSIONS) if status == "completed" else None
        updated = (
            self.after(rng, started, 0.3) if status == "completed" else min(started + timedelta(seconds=30), self.now)
        )
        if conclusion == "action_required":
            # As recorded on GitHub: a run waiting for approval is updated before its run_started_at.
            updated = started - timedelta(seconds=25)
        return WorkflowRun(
            id=self.world.new_id() + 8_000_000_000,
            repo=repo,
            name=name,
            path=path,
            workflow_id=70_000_000 + wf_index,
            run_number=number,
            event=event,
            status=status,
            conclusion=conclusion,
            head_branch=branch,
            head_sha=pr.head_sha if pr is not None and event == "pull_request" else sha(rng),
            display_title=pr.title if pr is not None and event == "pull_request" else self.title(rng),
            actor=rng.choice(repo.members),
            created_at=created,
            updated_at=updated,
            run_started_at=started,
        )

    def delivery(self) -> None:
        from hyperpage.demo.generate_delivery import build_delivery

        build_delivery(self)

    def gitlab(self) -> None:
        from hyperpage.demo.generate_gitlab import build_gitlab

        build_gitlab(self)

    def gitlab_delivery(self) -> None:
        from hyperpage.demo.generate_gitlab_delivery import build_gitlab_delivery

        build_gitlab_delivery(self)

    def jira(self) -> None:
        rng, w, cfg = self.rng("jira"), self.world, self.config
        for i in range(cfg.jira_projects):
            key, name = names.JIRA_PROJECTS[i % len(names.JIRA_PROJECTS)]
            key = key if i < len(names.JIRA_PROJECTS) else f"{key}{i}"
            w.jira_projects.append(JiraProject(id=10_000 + i, key=key, name=name, lead=rng.randrange(cfg.people)))
        for project in w.jira_projects:
            for created in sorted(self.when(rng) for _ in range(cfg.jira_issues_per_project)):
                self.add_jira_issue(rng, project, created)

    def add_jira_issue(self, rng: random.Random, project: JiraProject, created: datetime) -> JiraIssue:
        old = (self.now - created).days > 14
        status = rng.choice(names.JIRA_STATUSES[4:] if old and rng.random() < 0.7 else names.JIRA_STATUSES[:4])
        issuetype = rng.choice(names.JIRA_ISSUE_TYPES)
        reporter = rng.randrange(self.config.people)
        assignee = rng.randrange(self.config.people) if rng.random() < 0.8 else None
        if rng.random() < 0.3:
            assignee = 0
        watchers = sorted(
            {reporter, *([assignee] if assignee is not None else []), *rng.sample(range(self.config.people), k=2)}
        )
        issue = JiraIssue(
            id=self.world.new_id(),
            project=project,
            number=project.next_number,
            summary=self.title(rng, bug=issuetype == "Bug"),
            paragraphs=self.body(rng),
            status=status,
            issuetype=issuetype,
            priority=rng.choice(names.JIRA_PRIORITIES),
            assignee=assignee,
            reporter=reporter,
            watchers=watchers,
            labels=rng.sample(("backend", "frontend", "customer", "q3-goal", "infra"), k=rng.randint(0, 2)),
            created=created,
            updated=self.after(rng, created, 240),
        )
        if status[1] == "done":
            issue.resolutiondate = issue.updated
        project.next_number += 1
        self.world.jira_issues.append(issue)
        return issue


def build_world(config: FakeUpstreamConfig) -> World:
    return Generator(config).build()
