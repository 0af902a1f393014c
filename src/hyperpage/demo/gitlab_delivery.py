"""Fake GitLab endpoints the insights sync reads, over the generated world (generate_gitlab_delivery.py):

- `GET /projects/:id/deployments` (filters updated_after/updated_before, environment, status; order_by id, iid,
  created_at, updated_at, finished_at, ref; sort): https://docs.gitlab.com/api/deployments/#list-project-deployments
- `GET /projects/:id/merge_requests/:iid/commits` (newest first, paged):
  https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-commits
- `GET /projects/:id/merge_requests/:iid/notes` (sort, order_by created_at/updated_at, paged):
  https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
- `GET /projects/:id/repository/compare?from=&to=` (`commits` oldest first, not paged; histories here are linear,
  so a `to` older than `from` has no commits, as a rollback's compare has):
  https://docs.gitlab.com/api/repositories/#compare-branches-tags-or-commits
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from hyperpage.demo.gitlab_shapes import GitLabShapes
from hyperpage.demo.httpkit import HttpProblem, Reply, iso_ms
from hyperpage.demo.world import Commit, GlDeployment, GlNote, MergeRequest, Project

if TYPE_CHECKING:
    from hyperpage.demo.gitlab_api import GitLabService
    from hyperpage.demo.service import Identity

DEPLOYMENT_STATUSES = ("created", "running", "success", "failed", "canceled", "blocked", "skipped")


class DeliveryShapes:
    """GitLab's deployment, commit, note and compare objects."""

    def __init__(self, shapes: GitLabShapes) -> None:
        self.s = shapes

    def commit(self, c: Commit, project: Project) -> dict[str, Any]:
        person = self.s.people[c.author]
        title = c.message.splitlines()[0] if c.message else ""
        return {
            "id": c.sha,
            "short_id": c.sha[:8],
            "created_at": iso_ms(c.authored_at),
            "parent_ids": [],
            "title": title,
            "message": c.message,
            "author_name": person.name,
            "author_email": person.email,
            "authored_date": iso_ms(c.authored_at),
            "committer_name": person.name,
            "committer_email": person.email,
            "committed_date": iso_ms(c.authored_at),
            "trailers": {},
            "extended_trailers": {},
            "web_url": f"{self.s.web}/{project.path_with_namespace}/-/commit/{c.sha}",
        }

    def note(self, n: GlNote, mr: MergeRequest) -> dict[str, Any]:
        if n.bot is not None:  # a project access token's user: GitLab names it project_<id>_bot_<hex>
            author: dict[str, Any] = {"id": n.id % 100_000, "username": n.bot, "name": "Review bot", "state": "active"}
        else:
            author = self.s.user(n.author) or {}
        return {
            "id": n.id,
            "type": None,
            "body": n.body,
            "attachment": None,
            "author": author,
            "created_at": iso_ms(n.created_at),
            "updated_at": iso_ms(n.created_at),
            "system": n.system,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "project_id": mr.project.id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "noteable_iid": mr.iid,
            "commands_changes": {},
        }

    def deployment(self, d: GlDeployment) -> dict[str, Any]:
        web = f"{self.s.web}/{d.project.path_with_namespace}"
        job_id = d.id + 1
        return {
            "id": d.id,
            "iid": d.iid,
            "ref": d.project.default_branch,
            "sha": d.sha,
            "created_at": iso_ms(d.created_at),
            "updated_at": iso_ms(d.updated_at),
            "finished_at": iso_ms(d.finished_at),
            "status": d.status,
            "user": self.s.user(d.user),
            "environment": {
                "id": d.project.id * 10 + (1 if d.tier == "production" else 2),
                "name": d.environment,
                "slug": d.environment,
                "external_url": f"https://{d.environment}.{d.project.path}.example",
                "created_at": iso_ms(d.project.created_at),
                "updated_at": iso_ms(d.updated_at),
                "tier": d.tier,
                "state": "available",
            },
            "deployable": {
                "id": job_id,
                "name": f"deploy:{d.environment}",
                "stage": "deploy",
                "status": d.status,
                "ref": d.project.default_branch,
                "tag": False,
                "created_at": iso_ms(d.created_at),
                "started_at": iso_ms(d.created_at),
                "finished_at": iso_ms(d.finished_at),
                "web_url": f"{web}/-/jobs/{job_id}",
            },
        }


def routes(svc: GitLabService) -> list[BaseRoute]:
    # gitlab_api mounts these routes, so its list helpers are imported here, once it is loaded
    from hyperpage.demo.gitlab_api import ordering, window

    up = svc.up

    def shapes(request: Request) -> DeliveryShapes:
        return DeliveryShapes(svc.shapes(request))

    def deployments(request: Request, ident: Identity) -> Reply:
        project = svc.find_project(request)
        items = window(request, [d for d in up.world.gl_deployments if d.project is project])
        q = request.query_params
        if status := q.get("status"):
            if status not in DEPLOYMENT_STATUSES:
                raise HttpProblem(400, "status does not have a valid value")
            items = [d for d in items if d.status == status]
        if environment := q.get("environment"):
            items = [d for d in items if d.environment == environment]
        allowed = ("id", "iid", "created_at", "updated_at", "finished_at", "ref")
        if q.get("order_by") == "finished_at":
            items = [d for d in items if d.finished_at is not None]
        items = ordering(request, items, allowed, "id")
        return svc.listing(request, items, shapes(request).deployment)

    def mr_commits(request: Request, ident: Identity) -> Reply:
        mr = svc.one_in_project(request, up.world.mrs, lambda m: m.iid, "iid")
        render = shapes(request)
        return svc.listing(request, list(reversed(mr.commits)), lambda c: render.commit(c, mr.project))

    def mr_notes(request: Request, ident: Identity) -> Reply:
        mr = svc.one_in_project(request, up.world.mrs, lambda m: m.iid, "iid")
        items = ordering(
            request, list(mr.notes), ("created_at", "updated_at"), "created_at", {"updated_at": "created_at"}
        )
        render = shapes(request)
        return svc.listing(request, items, lambda n: render.note(n, mr))

    def compare(request: Request, ident: Identity) -> Reply:
        project = svc.find_project(request)
        history = up.world.gl_commits.get(project.id, [])
        index = {c.sha: i for i, c in enumerate(history)}
        base, head = request.query_params.get("from"), request.query_params.get("to")
        if not base or not head:
            raise HttpProblem(400, "from is missing" if not base else "to is missing")
        if base not in index or head not in index:
            raise HttpProblem(404, "Ref Not Found")
        render = shapes(request)
        commits = history[index[base] + 1 : index[head] + 1]
        return Reply(
            {
                "commit": render.commit(history[index[head]], project),
                "commits": [render.commit(c, project) for c in commits],
                "diffs": [],
                "compare_timeout": False,
                "compare_same_ref": base == head,
                "web_url": f"{svc.shapes(request).web}/{project.path_with_namespace}/-/compare/{base}...{head}",
            }
        )

    return [
        svc.route("/projects/{id:path}/deployments", deployments),
        svc.route("/projects/{id:path}/merge_requests/{iid:int}/commits", mr_commits),
        svc.route("/projects/{id:path}/merge_requests/{iid:int}/notes", mr_notes),
        svc.route("/projects/{id:path}/repository/compare", compare),
    ]
