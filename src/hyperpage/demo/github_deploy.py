"""Fake GitHub Deployments API and compare: what the insights sync reads to know what reached each environment.

- `GET /repos/{o}/{r}/deployments` (filters sha, ref, task, environment; newest first, paged),
  `GET .../deployments/{id}` and `GET .../deployments/{id}/statuses` (newest first):
  https://docs.github.com/rest/deployments/deployments , https://docs.github.com/rest/deployments/statuses
- `GET /repos/{o}/{r}/compare/{base}...{head}`: the commits reachable from head and not from base, oldest
  first, paged by per_page/page (https://docs.github.com/rest/commits/commits#compare-two-commits). Histories
  here are linear: a head older than its base is `behind` with no commits, as a rollback's compare is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from hyperpage.demo.github_shapes import GitHubShapes, node_id
from hyperpage.demo.httpkit import HttpProblem, Reply, iso_z, link_header, page_of
from hyperpage.demo.world import Commit, Deployment, DeploymentStatus, Repo

if TYPE_CHECKING:
    from hyperpage.demo.github_api import GitHubService
    from hyperpage.demo.service import Identity

LINK_ORDER = ("prev", "next", "last", "first")


class DeployShapes:
    """GitHub's `deployment`, `deployment-status`, `commit` and `commit-comparison` objects."""

    def __init__(self, shapes: GitHubShapes) -> None:
        self.s = shapes

    def deployment(self, d: Deployment) -> dict[str, Any]:
        url = f"{self.s.api}/repos/{d.repo.full_name}/deployments/{d.id}"
        return {
            "url": url,
            "id": d.id,
            "node_id": node_id("DE_", d.id),
            "sha": d.sha,
            "ref": d.ref,
            "task": "deploy",
            "payload": {},
            "original_environment": d.environment,
            "environment": d.environment,
            "description": d.description,
            "creator": self.s.user(d.creator),
            "created_at": iso_z(d.created_at),
            "updated_at": iso_z(d.updated_at),
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{self.s.api}/repos/{d.repo.full_name}",
            "transient_environment": False,
            "production_environment": d.production,
            "performed_via_github_app": None,
        }

    def status(self, d: Deployment, st: DeploymentStatus) -> dict[str, Any]:
        url = f"{self.s.api}/repos/{d.repo.full_name}/deployments/{d.id}"
        log = f"{self.s.web}/{d.repo.full_name}/actions/runs/{d.id}"
        return {
            "url": f"{url}/statuses/{st.id}",
            "id": st.id,
            "node_id": node_id("DES_", st.id),
            "state": st.state,
            "creator": self.s.user(d.creator),
            "description": st.description,
            "environment": d.environment,
            "target_url": log,
            "created_at": iso_z(st.created_at),
            "updated_at": iso_z(st.created_at),
            "deployment_url": url,
            "repository_url": f"{self.s.api}/repos/{d.repo.full_name}",
            "environment_url": "",
            "log_url": log,
            "performed_via_github_app": None,
        }

    def commit(self, repo: Repo, c: Commit, parent: str | None) -> dict[str, Any]:
        url = f"{self.s.api}/repos/{repo.full_name}/commits/{c.sha}"
        person = self.s.people[c.author]
        git_user = {"name": person.name, "email": person.email, "date": iso_z(c.authored_at)}
        parents = (
            [] if parent is None else [{"sha": parent, "url": f"{self.s.api}/repos/{repo.full_name}/commits/{parent}"}]
        )
        return {
            "url": url,
            "sha": c.sha,
            "node_id": node_id("C_", int(c.sha[:12], 16)),
            "html_url": f"{self.s.web}/{repo.full_name}/commit/{c.sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{self.s.api}/repos/{repo.full_name}/git/commits/{c.sha}",
                "author": git_user,
                "committer": git_user,
                "message": c.message,
                "comment_count": 0,
                "tree": {"sha": c.sha[::-1], "url": f"{self.s.api}/repos/{repo.full_name}/git/trees/{c.sha[::-1]}"},
            },
            "author": self.s.user(c.author),
            "committer": self.s.user(c.author),
            "parents": parents,
        }


def routes(svc: GitHubService) -> list[BaseRoute]:
    up = svc.up

    def find(request: Request) -> tuple[Repo, list[Deployment]]:
        repo = svc.find_repo(request)
        return repo, [d for d in up.world.deployments if d.repo is repo]

    def deployment_of(request: Request) -> Deployment:
        _, items = find(request)
        found = next((d for d in items if d.id == request.path_params["deployment_id"]), None)
        if found is None:
            raise HttpProblem(404, "Not Found")
        return found

    def deployments(request: Request, ident: Identity) -> Reply:
        _, items = find(request)
        q = request.query_params
        for param in ("sha", "ref", "environment"):
            if q.get(param):
                items = [d for d in items if getattr(d, param) == q[param]]
        if q.get("task") and q["task"] != "deploy":
            items = []
        items.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        shapes = DeployShapes(svc.shapes(request))
        return svc.listing(request, items, shapes.deployment)

    def deployment(request: Request, ident: Identity) -> Reply:
        found = deployment_of(request)
        return Reply(DeployShapes(svc.shapes(request)).deployment(found), last_modified=found.updated_at)

    def statuses(request: Request, ident: Identity) -> Reply:
        found = deployment_of(request)
        items = sorted(found.statuses, key=lambda s: (s.created_at, s.id), reverse=True)
        shapes = DeployShapes(svc.shapes(request))
        return svc.listing(request, items, lambda st: shapes.status(found, st))

    def compare(request: Request, ident: Identity) -> Reply:
        repo = svc.find_repo(request)
        base, dots, head = request.path_params["basehead"].partition("...")
        history = up.world.commits.get(repo.id, [])
        index = {c.sha: i for i, c in enumerate(history)}
        if not dots or base not in index or head not in index:
            raise HttpProblem(404, "Not Found")
        lo, hi = index[base], index[head]
        commits = history[lo + 1 : hi + 1] if hi > lo else []
        status = "identical" if hi == lo else ("ahead" if hi > lo else "behind")
        shapes = DeployShapes(svc.shapes(request))
        paged = "page" in request.query_params or "per_page" in request.query_params
        page = page_of(request, len(commits), 250 if not paged else 30)
        shown = page.slice(commits) if paged else commits[-250:]
        parent_of = {c.sha: history[index[c.sha] - 1].sha if index[c.sha] else None for c in shown}
        html = f"{svc.shapes(request).web}/{repo.full_name}/compare/{base}...{head}"
        body = {
            "url": f"{svc.shapes(request).api}/repos/{repo.full_name}/compare/{base}...{head}",
            "html_url": html,
            "permalink_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": shapes.commit(repo, history[lo], history[lo - 1].sha if lo else None),
            "merge_base_commit": shapes.commit(repo, history[min(lo, hi)], None),
            "status": status,
            "ahead_by": max(hi - lo, 0),
            "behind_by": max(lo - hi, 0),
            "total_commits": len(commits),
            "commits": [shapes.commit(repo, c, parent_of[c.sha]) for c in shown],
            "files": [],
        }
        link = svc.repo_link(request, link_header(request, page, LINK_ORDER)) if paged else None
        return Reply(body, headers={"link": link} if link else {})

    return svc.repo_routes(
        {
            "/deployments": deployments,
            "/deployments/{deployment_id:int}": deployment,
            "/deployments/{deployment_id:int}/statuses": statuses,
            "/compare/{basehead}": compare,
        }
    )
