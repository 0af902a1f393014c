"""GitHub REST v3 JSON shapes (api version 2022-11-28) rendered from the world's records."""

from __future__ import annotations

import base64
import functools
from typing import Any

from hyperpage.demo import names
from hyperpage.demo.httpkit import iso_z
from hyperpage.demo.shapes import PeopleShapes
from hyperpage.demo.world import GhIssue, Org, Person, PullRequest, Repo, WorkflowRun

LABEL_COLORS = dict(names.LABELS)


@functools.lru_cache(maxsize=65536)
def node_id(prefix: str, ident: int) -> str:
    return prefix + base64.b64encode(f"fake:{ident}".encode()).decode().rstrip("=")


# The URL templates every repository object carries (GitHub's `repository` and `minimal-repository` require them).
REPO_URLS = (
    ("archive", "{archive_format}{/ref}"),
    ("assignees", "assignees{/user}"),
    ("blobs", "git/blobs{/sha}"),
    ("branches", "branches{/branch}"),
    ("collaborators", "collaborators{/collaborator}"),
    ("comments", "comments{/number}"),
    ("commits", "commits{/sha}"),
    ("compare", "compare/{base}...{head}"),
    ("contents", "contents/{+path}"),
    ("contributors", "contributors"),
    ("deployments", "deployments"),
    ("downloads", "downloads"),
    ("events", "events"),
    ("forks", "forks"),
    ("git_commits", "git/commits{/sha}"),
    ("git_refs", "git/refs{/sha}"),
    ("git_tags", "git/tags{/sha}"),
    ("hooks", "hooks"),
    ("issue_comment", "issues/comments{/number}"),
    ("issue_events", "issues/events{/number}"),
    ("issues", "issues{/number}"),
    ("keys", "keys{/key_id}"),
    ("labels", "labels{/name}"),
    ("languages", "languages"),
    ("merges", "merges"),
    ("milestones", "milestones{/number}"),
    ("notifications", "notifications{?since,all,participating}"),
    ("pulls", "pulls{/number}"),
    ("releases", "releases{/id}"),
    ("stargazers", "stargazers"),
    ("statuses", "statuses/{sha}"),
    ("subscribers", "subscribers"),
    ("subscription", "subscription"),
    ("tags", "tags"),
    ("teams", "teams"),
    ("trees", "git/trees{/sha}"),
)


LABEL_DESCRIPTIONS = {"bug": "Something isn't working", "enhancement": "New feature or request"}


class GitHubShapes(PeopleShapes):
    def __init__(self, api: str, web: str, people: list[Person], version: str = "2022-11-28") -> None:
        self.api = api  # e.g. http://127.0.0.1:8000/github
        # 2026-03-10 and later drop pull requests' merge_commit_sha and the singular assignee
        self.dropped = {"merge_commit_sha", "assignee"} if version >= "2026-03-10" else set()
        self.web = web  # where html_url points (the fake's own web pages)
        self.people = people
        # One instance serves one request: caching the nested user and repository objects (a PR page
        # repeats them hundreds of times) cannot serve stale data.
        self._users: dict[int, dict[str, Any]] = {}
        self._repos: dict[int, dict[str, Any]] = {}

    def person(self, index: int) -> dict[str, Any]:
        if index not in self._users:
            p = self.people[index]
            self._users[index] = self._account(p.login, p.github_id, "U_", "User")
        return self._users[index]

    def _account(self, login: str, ident: int, prefix: str, kind: str) -> dict[str, Any]:
        """GitHub's `simple-user`: every field its schema requires, for people and organisations alike."""
        url = f"{self.api}/users/{login}"
        return {
            "login": login,
            "id": ident,
            "node_id": node_id(prefix, ident),
            "avatar_url": f"{self.web}/avatars/{login}.png",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _versioned(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in self.dropped} if self.dropped else item

    def authenticated_user(self, person: Person, repos: int) -> dict[str, Any]:
        return {
            **self.user(person.index),
            "name": person.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": person.email,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": repos,
            "public_gists": 0,
            "followers": 3,
            "following": 5,
            "created_at": "2019-03-04T09:10:11Z",
            "updated_at": "2026-01-02T03:04:05Z",
        }

    def org(self, org: Org) -> dict[str, Any]:
        return self._account(org.login, org.id, "O_", "Organization")

    def repo(self, repo: Repo, open_issues: int = 0) -> dict[str, Any]:
        if open_issues:
            return self._repo(repo, open_issues)
        if repo.id not in self._repos:
            self._repos[repo.id] = self._repo(repo, 0)
        return self._repos[repo.id]

    def _repo(self, repo: Repo, open_issues: int) -> dict[str, Any]:
        url = f"{self.api}/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": node_id("R_", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.org(repo.owner),
            "html_url": f"{self.web}/{repo.full_name}",
            "description": repo.description,
            "fork": False,
            "url": url,
            **{f"{name}_url": f"{url}/{path}" for name, path in REPO_URLS},
            "created_at": iso_z(repo.created_at),
            "updated_at": iso_z(repo.updated_at),
            "pushed_at": iso_z(repo.pushed_at),
            "clone_url": f"{self.web}/{repo.full_name}.git",
            "git_url": f"git://fake.invalid/{repo.full_name}.git",
            "ssh_url": f"git@fake.invalid:{repo.full_name}.git",
            "svn_url": f"{self.web}/{repo.full_name}",
            "mirror_url": None,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "network_count": 0,
            "subscribers_count": 4,
            "homepage": None,
            "size": 2048,
            "stargazers_count": 4,
            "watchers_count": 4,
            "language": repo.language,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "forks_count": 0,
            "open_issues": open_issues,
            "watchers": 4,
            "default_branch": repo.default_branch,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }

    def label(self, repo: Repo, name: str) -> dict[str, Any]:
        ident = 4_000_000 + sum(map(ord, name)) * 31
        return {
            "id": ident,
            "node_id": node_id("LA_", ident),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{name}",
            "name": name,
            "color": LABEL_COLORS.get(name, "ededed"),
            "default": name in ("bug", "enhancement"),
            # GitHub's `label` schema has a string description (null is what a label without one sends
            # on some endpoints, but the pull-request schema does not allow it): an empty string here.
            "description": LABEL_DESCRIPTIONS.get(name, ""),
        }

    def _branch(self, pr: PullRequest, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{pr.repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.org(pr.repo.owner),
            "repo": self.repo(pr.repo),
        }

    def pull(self, pr: PullRequest, single: bool = False) -> dict[str, Any]:
        url = f"{self.api}/repos/{pr.repo.full_name}/pulls/{pr.number}"
        issue_url = f"{self.api}/repos/{pr.repo.full_name}/issues/{pr.number}"
        html = f"{self.web}/{pr.repo.full_name}/pull/{pr.number}"
        out: dict[str, Any] = {
            "url": url,
            "id": pr.id,
            "node_id": node_id("PR_", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.api}/repos/{pr.repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.api}/repos/{pr.repo.full_name}/statuses/{pr.head_sha}",
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self.user(pr.user),
            "body": pr.body,
            "labels": [self.label(pr.repo, lb) for lb in pr.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso_z(pr.created_at),
            "updated_at": iso_z(pr.updated_at),
            "closed_at": iso_z(pr.closed_at),
            "merged_at": iso_z(pr.merged_at),
            "merge_commit_sha": pr.head_sha[::-1] if pr.merged_at else None,
            "assignee": self.user(pr.assignees[0]) if pr.assignees else None,
            "assignees": [self.user(a) for a in pr.assignees],
            "requested_reviewers": [self.user(r) for r in pr.requested_reviewers],
            "requested_teams": [],
            "head": self._branch(pr, pr.head_ref, pr.head_sha),
            "base": self._branch(pr, pr.base_ref, f"{pr.id:040x}"),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{self.api}/repos/{pr.repo.full_name}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{self.api}/repos/{pr.repo.full_name}/statuses/{pr.head_sha}"},
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "draft": pr.draft,
        }
        if single:
            # Only the single-PR endpoint computes merge state; list items never carry these keys.
            out.update(
                {
                    "merged": pr.merged_at is not None,
                    "mergeable": None if pr.state == "closed" else pr.mergeable_state != "dirty",
                    "rebaseable": pr.state == "open",
                    "mergeable_state": pr.mergeable_state,
                    "merged_by": self.user(pr.merged_by),
                    "comments": pr.comments,
                    "review_comments": pr.review_comments,
                    "maintainer_can_modify": False,
                    "commits": pr.commits,
                    "additions": pr.additions,
                    "deletions": pr.deletions,
                    "changed_files": pr.changed_files,
                }
            )
        return self._versioned(out)

    def issue(self, item: GhIssue | PullRequest) -> dict[str, Any]:
        repo = item.repo
        url = f"{self.api}/repos/{repo.full_name}/issues/{item.number}"
        is_pr = isinstance(item, PullRequest)
        html = f"{self.web}/{repo.full_name}/{'pull' if is_pr else 'issues'}/{item.number}"
        out: dict[str, Any] = {
            "url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "id": item.id,
            "node_id": node_id("PR_" if is_pr else "I_", item.id),
            "number": item.number,
            "title": item.title,
            "user": self.user(item.user),
            "labels": [self.label(repo, lb) for lb in item.labels],
            "state": item.state,
            "locked": False,
            "assignee": self.user(item.assignees[0]) if item.assignees else None,
            "assignees": [self.user(a) for a in item.assignees],
            "milestone": None,
            "comments": item.comments,
            "created_at": iso_z(item.created_at),
            "updated_at": iso_z(item.updated_at),
            "closed_at": iso_z(item.closed_at),
            "author_association": "MEMBER",
            "active_lock_reason": None,
            "body": item.body,
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": None if isinstance(item, PullRequest) else item.state_reason,
        }
        if isinstance(item, PullRequest):
            # The issues API lists pull requests too; this key is the only way to tell them apart.
            out["draft"] = item.draft
            out["pull_request"] = {
                "url": f"{self.api}/repos/{repo.full_name}/pulls/{item.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso_z(item.merged_at),
            }
            if self.dropped and item.merged_at is None:
                del out["pull_request"]["merged_at"]  # 2026-03-10: not nullable any more, so absent
        return self._versioned(out)

    def run(self, run: WorkflowRun) -> dict[str, Any]:
        repo_url = f"{self.api}/repos/{run.repo.full_name}"
        url = f"{repo_url}/actions/runs/{run.id}"
        actor = self.user(run.actor)
        commit = {
            "id": run.head_sha,
            "tree_id": run.head_sha[::-1],
            "message": run.display_title,
            "timestamp": iso_z(run.created_at),
            "author": {"name": self.people[run.actor].name, "email": self.people[run.actor].email},
            "committer": {"name": self.people[run.actor].name, "email": self.people[run.actor].email},
        }
        mini_repo = {
            k: v
            for k, v in self.repo(run.repo).items()
            if k in ("id", "node_id", "name", "full_name", "private", "owner", "html_url", "description", "fork", "url")
            or (k.endswith("_url") and k not in ("clone_url", "git_url", "ssh_url", "svn_url", "mirror_url"))
        }
        return {
            "id": run.id,
            "name": run.name,
            "node_id": node_id("WFR_", run.id),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": run.path,
            "display_title": run.display_title,
            "run_number": run.run_number,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": run.workflow_id,
            "check_suite_id": run.id + 17,
            "check_suite_node_id": node_id("CS_", run.id + 17),
            "url": url,
            "html_url": f"{self.web}/{run.repo.full_name}/actions/runs/{run.id}",
            "pull_requests": [],
            "created_at": iso_z(run.created_at),
            "updated_at": iso_z(run.updated_at),
            "actor": actor,
            "run_attempt": run.run_attempt,
            "referenced_workflows": [],
            "run_started_at": iso_z(run.run_started_at),
            "triggering_actor": actor,
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "check_suite_url": f"{repo_url}/check-suites/{run.id + 17}",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "previous_attempt_url": None,
            "workflow_url": f"{repo_url}/actions/workflows/{run.workflow_id}",
            "head_commit": commit,
            "repository": mini_repo,
            "head_repository": mini_repo,
        }
