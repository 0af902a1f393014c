"""The fake upstream's in-memory world: people, GitHub, GitLab and Jira records.

Records are mutable dataclasses so the control plane can retitle, close, merge or add items; the renderers
(github_shapes, gitlab_shapes, jira_shapes) turn them into the real JSON shapes on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Person:
    index: int
    login: str
    name: str
    email: str
    github_id: int
    gitlab_id: int
    jira_account_id: str


@dataclass
class Org:
    login: str
    id: int
    name: str


@dataclass
class Repo:
    id: int
    owner: Org
    name: str
    description: str
    language: str
    default_branch: str
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    private: bool
    members: list[int]
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Review:
    id: int
    user: int | None  # a person, or None for a bot (bot_login)
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    submitted_at: datetime
    bot_login: str | None = None


@dataclass
class PullRequest:
    id: int
    repo: Repo
    number: int
    title: str
    body: str
    state: str  # open | closed
    draft: bool
    user: int
    labels: list[str]
    requested_reviewers: list[int]
    assignees: list[int]
    head_ref: str
    base_ref: str
    head_sha: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: int | None = None
    mergeable_state: str = "clean"
    comments: int = 0
    review_comments: int = 0
    commits: int = 1
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    # what the insights read (GraphQL): the earliest commit's authored time, draft/ready events, reviews
    first_commit_at: datetime | None = None
    timeline: list[tuple[str, datetime]] = field(default_factory=list)  # (ReadyForReviewEvent|ConvertToDraftEvent, at)
    reviews: list[Review] = field(default_factory=list)

    @property
    def merge_sha(self) -> str | None:
        """The merge commit (REST `merge_commit_sha`, GraphQL `mergeCommit.oid`)."""
        return self.head_sha[::-1] if self.merged_at else None

    def commit_list(self) -> list[Commit]:
        """Its commits, oldest first: the first authored at first_commit_at, the last is the head."""
        start = self.first_commit_at or self.created_at
        step = (self.created_at - start) / max(self.commits, 1)
        return [
            Commit(
                sha=self.head_sha if i == self.commits - 1 else f"{self.head_sha[:32]}{i:08x}",
                message=f"{self.title} ({i + 1}/{self.commits})",
                author=self.user,
                authored_at=start + step * i,
            )
            for i in range(self.commits)
        ]


@dataclass
class Commit:
    """A commit on a repository's default branch (the compare API walks these)."""

    sha: str
    message: str
    author: int
    authored_at: datetime


@dataclass
class DeploymentStatus:
    id: int
    state: str  # queued | in_progress | success | failure | error | inactive
    created_at: datetime
    description: str = ""


@dataclass
class Deployment:
    id: int
    repo: Repo
    environment: str
    sha: str
    ref: str
    creator: int
    created_at: datetime
    production: bool
    statuses: list[DeploymentStatus] = field(default_factory=list)
    description: str = ""

    @property
    def updated_at(self) -> datetime:
        return max([self.created_at, *(s.created_at for s in self.statuses)])


@dataclass
class GhIssue:
    id: int
    repo: Repo
    number: int
    title: str
    body: str
    state: str  # open | closed
    state_reason: str | None
    user: int
    labels: list[str]
    assignees: list[int]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    comments: int = 0


@dataclass
class WorkflowRun:
    id: int
    repo: Repo
    name: str
    path: str
    workflow_id: int
    run_number: int
    event: str
    status: str  # queued | in_progress | completed (and waiting/requested/pending on real GitHub)
    conclusion: str | None
    head_branch: str
    head_sha: str
    display_title: str
    actor: int
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime
    run_attempt: int = 1


@dataclass
class Group:
    id: int
    name: str
    path: str


@dataclass
class Project:
    id: int
    group: Group
    name: str
    path: str
    description: str
    default_branch: str
    created_at: datetime
    last_activity_at: datetime
    members: list[int]
    next_mr_iid: int = 1
    next_issue_iid: int = 1
    next_pipeline_iid: int = 1

    @property
    def path_with_namespace(self) -> str:
        return f"{self.group.path}/{self.path}"

    @property
    def updated_at(self) -> datetime:
        return self.last_activity_at


@dataclass
class MergeRequest:
    id: int
    project: Project
    iid: int
    title: str
    description: str
    state: str  # opened | closed | merged | locked
    draft: bool
    author: int
    assignees: list[int]
    reviewers: list[int]
    labels: list[str]
    source_branch: str
    target_branch: str
    sha: str
    created_at: datetime
    updated_at: datetime
    merged_at: datetime | None = None
    merged_by: int | None = None
    closed_at: datetime | None = None
    closed_by: int | None = None
    detailed_merge_status: str = "mergeable"
    user_notes_count: int = 0
    # its own commits (oldest first) and notes: what the insights' GitLab sync reads per merge request
    commits: list[Commit] = field(default_factory=list)
    notes: list[GlNote] = field(default_factory=list)

    @property
    def merge_commit_sha(self) -> str | None:
        """The merge commit GitLab made on the target branch (a stand-in derived from the head sha)."""
        return self.sha[::-1] if self.merged_at else None


@dataclass
class GlNote:
    """A merge-request note: a person's comment, or a system note ("approved this merge request", "marked this
    merge request as **ready**"). `bot` names a project access token's bot user instead of a person."""

    id: int
    author: int | None
    body: str
    system: bool
    created_at: datetime
    bot: str | None = None


@dataclass
class GlDeployment:
    id: int
    iid: int
    project: Project
    environment: str
    tier: str  # production | staging | testing | development | other
    sha: str  # of the project's default branch
    user: int
    status: str  # created | running | success | failed | canceled | blocked | skipped
    created_at: datetime
    finished_at: datetime | None = None

    @property
    def updated_at(self) -> datetime:
        return self.finished_at or self.created_at


@dataclass
class Pipeline:
    id: int
    project: Project
    iid: int
    status: str
    source: str
    ref: str
    sha: str
    user: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_duration: float | None = None


@dataclass
class GlIssue:
    id: int
    project: Project
    iid: int
    title: str
    description: str
    state: str  # opened | closed
    author: int
    assignees: list[int]
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    closed_by: int | None = None
    user_notes_count: int = 0
    issue_type: str = "issue"  # issue | incident | test_case | task


@dataclass
class JiraProject:
    id: int
    key: str
    name: str
    lead: int
    next_number: int = 1


@dataclass
class JiraIssue:
    id: int
    project: JiraProject
    number: int
    summary: str
    paragraphs: list[str]
    status: tuple[str, str, int, str]
    issuetype: str
    priority: str
    assignee: int | None
    reporter: int
    watchers: list[int]
    labels: list[str]
    created: datetime
    updated: datetime
    resolutiondate: datetime | None = None
    status_changed: datetime | None = None  # statuscategorychangedate; None: unchanged since created

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"


@dataclass
class World:
    people: list[Person] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    pulls: list[PullRequest] = field(default_factory=list)
    gh_issues: list[GhIssue] = field(default_factory=list)
    runs: list[WorkflowRun] = field(default_factory=list)
    commits: dict[int, list[Commit]] = field(default_factory=dict)  # repository id -> its history, oldest first
    deployments: list[Deployment] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    mrs: list[MergeRequest] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    gl_issues: list[GlIssue] = field(default_factory=list)
    gl_commits: dict[int, list[Commit]] = field(default_factory=dict)  # project id -> default-branch history
    gl_deployments: list[GlDeployment] = field(default_factory=list)
    jira_projects: list[JiraProject] = field(default_factory=list)
    jira_issues: list[JiraIssue] = field(default_factory=list)
    renamed: dict[str, Repo] = field(default_factory=dict)  # old "owner/name" (lower case) -> the repository
    next_id: int = 1_000_000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def repo(self, full_name: str) -> Repo | None:
        return next((r for r in self.repos if r.full_name.lower() == full_name.lower()), None)

    def project(self, ident: str) -> Project | None:
        if ident.isdigit():
            return next((p for p in self.projects if p.id == int(ident)), None)
        return next((p for p in self.projects if p.path_with_namespace.lower() == ident.lower()), None)

    def latest_update(self) -> datetime | None:
        records: tuple[PullRequest | GhIssue | WorkflowRun | MergeRequest | Pipeline | GlIssue, ...] = (
            *self.pulls,
            *self.gh_issues,
            *self.runs,
            *self.mrs,
            *self.pipelines,
            *self.gl_issues,
        )
        stamps = [x.updated_at for x in records]
        stamps += [j.updated for j in self.jira_issues]
        return max(stamps) if stamps else None
