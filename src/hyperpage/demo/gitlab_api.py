"""Fake GitLab REST v4 under /gitlab/api/v4: PRIVATE-TOKEN/Bearer auth, RateLimit-* headers, offset pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from hyperpage.demo.faults import Fault
from hyperpage.demo.gitlab_delivery import routes as delivery_routes
from hyperpage.demo.gitlab_shapes import GitLabShapes
from hyperpage.demo.httpkit import HttpProblem, Reply, http_date, latest, link_header, page_of, parse_time
from hyperpage.demo.service import Identity, Service, bearer_or_token
from hyperpage.demo.world import Project

LINK_ORDER = ("prev", "next", "first", "last")


class _OfProject(Protocol):
    @property
    def project(self) -> Project: ...


InProject = TypeVar("InProject", bound=_OfProject)


class GitLabService(Service):
    name = "gitlab"
    prefix = "/gitlab/api/v4"
    etag_length = 32

    @property
    def charges_304(self) -> bool:
        return self.up.config.gitlab_charges_304

    def authenticate(self, request: Request) -> Identity | Response:
        token = request.headers.get("private-token") or bearer_or_token(request)
        index = self.up.config.gitlab_tokens.get(token) if token else None
        if index is None:
            return self.json({"message": "401 Unauthorized"}, 401)
        return Identity(token=token or "", person=self.up.world.people[index])

    def rate_headers(self, ident: Identity, resource: str) -> dict[str, str]:
        bucket = self.up.quota.bucket("gitlab", ident.token, "api")
        return {
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(bucket.limit),
            "RateLimit-Observed": str(bucket.used),
            "RateLimit-Remaining": str(bucket.remaining),
            "RateLimit-Reset": str(bucket.reset_epoch),
            "RateLimit-ResetTime": http_date(datetime.fromtimestamp(bucket.reset_epoch, UTC)),
        }

    def charge(self, ident: Identity, resource: str) -> None:
        self.up.quota.charge("gitlab", ident.token, "api")
        self.up.stats.charged["gitlab"] += 1

    def retry_later(self, ident: Identity, retry_after: int) -> Response:
        # Rack::Attack's throttle answer: plain text, not JSON.
        headers = {**self.rate_headers(ident, "api"), "Retry-After": str(retry_after)}
        headers["RateLimit-Remaining"] = "0"
        return PlainTextResponse("Retry later\n", status_code=429, headers=headers)

    def quota_response(self, ident: Identity, resource: str) -> Response | None:
        bucket = self.up.quota.bucket("gitlab", ident.token, "api")
        if bucket.remaining > 0:
            return None
        return self.retry_later(ident, max(1, bucket.reset_epoch - int(self.up.clock())))

    def fault_response(self, fault: Fault, ident: Identity, resource: str) -> Response:
        if fault.kind in ("rate_limit", "secondary_rate_limit"):
            return self.retry_later(ident, fault.retry_after)
        if fault.status == 500:
            return self.json({"message": "500 Internal Server Error"}, 500)
        return Response(
            "<html><body><h1>GitLab is not responding</h1></body></html>",
            status_code=fault.status,
            media_type="text/html; charset=utf-8",
        )

    def problem_response(self, problem: HttpProblem) -> Response:
        if problem.status == 400:
            return self.json({"error": problem.message}, 400)
        return self.json({"message": f"{problem.status} {problem.message}"}, problem.status)

    def shapes(self, request: Request) -> GitLabShapes:
        return GitLabShapes(f"{request.url.scheme}://{request.url.netloc}/gitlab", self.up.world.people)

    def find_project(self, request: Request) -> Project:
        project = self.up.world.project(request.path_params["id"])
        if project is None:
            raise HttpProblem(404, "Project Not Found")
        return project

    def one_in_project(
        self, request: Request, items: list[InProject], number: Callable[[InProject], int], param: str
    ) -> InProject:
        """The item of the path's project whose number (`iid`, or `id` for pipelines) is the path's `param`."""
        project, wanted = self.find_project(request), int(request.path_params[param])
        found = next((item for item in items if item.project is project and number(item) == wanted), None)
        if found is None:
            raise HttpProblem(404, "Not found")
        return found

    def listing(self, request: Request, items: list[Any], render: Callable[[Any], Any]) -> Reply:
        page = page_of(request, len(items), 20)
        counted = len(items) <= self.up.config.gitlab_count_limit
        headers = {
            "X-Page": str(page.number),
            "X-Per-Page": str(page.per_page),
            "X-Next-Page": str(page.number + 1) if page.number < page.pages else "",
            "X-Prev-Page": str(page.number - 1) if page.number > 1 else "",
        }
        if counted:
            headers.update({"X-Total": str(len(items)), "X-Total-Pages": str(max(page.pages, 1))})
        if link := link_header(request, page, LINK_ORDER, with_last=counted):
            headers["Link"] = link
        return Reply(
            [render(i) for i in page.slice(items)],
            headers=headers,
            last_modified=latest(*(getattr(i, "updated_at", None) for i in items)),
        )


def ordering(
    request: Request, items: list[Any], allowed: tuple[str, ...], default: str, attrs: dict[str, str] | None = None
) -> list[Any]:
    order_by = request.query_params.get("order_by") or default
    if order_by not in allowed:
        raise HttpProblem(400, "order_by does not have a valid value")
    sort = request.query_params.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise HttpProblem(400, "sort does not have a valid value")
    attr = (attrs or {}).get(order_by, order_by)
    return sorted(items, key=lambda i: (getattr(i, attr), i.id), reverse=sort == "desc")


def window(request: Request, items: list[Any]) -> list[Any]:
    after = parse_time(request.query_params.get("updated_after"), "updated_after")
    before = parse_time(request.query_params.get("updated_before"), "updated_before")
    return [i for i in items if (after is None or i.updated_at >= after) and (before is None or i.updated_at <= before)]


def state_filter(request: Request, items: list[Any], allowed: tuple[str, ...]) -> list[Any]:
    state = request.query_params.get("state") or "all"
    if state not in (*allowed, "all"):
        raise HttpProblem(400, "state does not have a valid value")
    return items if state == "all" else [i for i in items if i.state == state]


def routes(svc: GitLabService) -> list[BaseRoute]:
    up = svc.up

    def scoped(request: Request, ident: Identity, items: list[Any], author: str, people: str) -> list[Any]:
        """The cross-project lists' `scope`: created_by_me (the default), assigned_to_me or all."""
        scope = request.query_params.get("scope") or "created_by_me"
        me = ident.person.index
        if scope == "created_by_me":
            items = [i for i in items if getattr(i, author) == me]
        elif scope == "assigned_to_me":
            items = [i for i in items if me in getattr(i, people)]
        elif scope != "all":
            raise HttpProblem(400, "scope does not have a valid value")
        visible = {p.id for p in up.world.projects if me in p.members}
        return [i for i in items if i.project.id in visible]

    def user(request: Request, ident: Identity) -> Reply:
        return Reply(svc.shapes(request).current_user(ident.person))

    def projects(request: Request, ident: Identity, group: str | None = None) -> Reply:
        items = list(up.world.projects)
        if group is not None:
            found = next((g for g in up.world.groups if str(g.id) == group or g.path == group.lower()), None)
            if found is None:
                raise HttpProblem(404, "Group Not Found")
            items = [p for p in items if p.group is found]
        if request.query_params.get("membership") in ("true", "1"):
            items = [p for p in items if ident.person.index in p.members]
        if search := request.query_params.get("search"):
            items = [p for p in items if search.lower() in p.path_with_namespace.lower()]
        key = {
            "last_activity_at": "last_activity_at",
            "created_at": "created_at",
            "id": "id",
            "name": "name",
            "path": "path",
            "updated_at": "last_activity_at",
        }
        order_by = request.query_params.get("order_by") or "created_at"
        if order_by not in key:
            raise HttpProblem(400, "order_by does not have a valid value")
        items.sort(
            key=lambda p: (getattr(p, key[order_by]), p.id),
            reverse=(request.query_params.get("sort") or "desc") == "desc",
        )
        shapes = svc.shapes(request)
        return svc.listing(request, items, shapes.project)

    def group_projects(request: Request, ident: Identity) -> Reply:
        return projects(request, ident, group=request.path_params["gid"])

    def project(request: Request, ident: Identity) -> Reply:
        found = svc.find_project(request)
        return Reply(svc.shapes(request).project(found), last_modified=found.last_activity_at)

    def mr_filters(request: Request, items: list[Any]) -> list[Any]:
        items = window(request, state_filter(request, items, ("opened", "closed", "locked", "merged")))
        q = request.query_params
        if q.get("author_username"):
            items = [m for m in items if up.world.people[m.author].login == q["author_username"]]
        if q.get("reviewer_username"):
            items = [m for m in items if q["reviewer_username"] in {up.world.people[r].login for r in m.reviewers}]
        return ordering(request, items, ("created_at", "updated_at", "title"), "created_at")

    def project_mrs(request: Request, ident: Identity) -> Reply:
        found = svc.find_project(request)
        items = mr_filters(request, [m for m in up.world.mrs if m.project is found])
        return svc.listing(request, items, svc.shapes(request).merge_request)

    def project_mr(request: Request, ident: Identity) -> Reply:
        mr = svc.one_in_project(request, up.world.mrs, lambda m: m.iid, "iid")
        return Reply(svc.shapes(request).merge_request(mr), last_modified=mr.updated_at)

    def all_mrs(request: Request, ident: Identity) -> Reply:
        items = mr_filters(request, scoped(request, ident, list(up.world.mrs), "author", "assignees"))
        return svc.listing(request, items, svc.shapes(request).merge_request)

    def pipelines(request: Request, ident: Identity) -> Reply:
        found = svc.find_project(request)
        items = window(request, [p for p in up.world.pipelines if p.project is found])
        for param in ("status", "ref", "sha", "source"):
            if value := request.query_params.get(param):
                items = [p for p in items if getattr(p, param) == value]
        items = ordering(request, items, ("id", "status", "ref", "updated_at", "user_id"), "id", {"user_id": "user"})
        return svc.listing(request, items, svc.shapes(request).pipeline)

    def pipeline(request: Request, ident: Identity) -> Reply:
        item = svc.one_in_project(request, up.world.pipelines, lambda p: p.id, "pid")
        return Reply(svc.shapes(request).pipeline(item, single=True), last_modified=item.updated_at)

    def issue_filters(request: Request, items: list[Any]) -> list[Any]:
        items = window(request, state_filter(request, items, ("opened", "closed")))
        q = request.query_params
        if issue_type := q.get("issue_type"):
            if issue_type not in ("issue", "incident", "test_case", "task"):
                raise HttpProblem(400, "issue_type does not have a valid value")
            items = [i for i in items if i.issue_type == issue_type]
        if labels := q.get("labels"):  # comma-separated: issues carrying all of them
            wanted = {lb.strip().lower() for lb in labels.split(",") if lb.strip()}
            items = [i for i in items if wanted <= {lb.lower() for lb in i.labels}]
        return ordering(request, items, ("created_at", "updated_at"), "created_at")

    def project_issues(request: Request, ident: Identity) -> Reply:
        found = svc.find_project(request)
        items = issue_filters(request, [i for i in up.world.gl_issues if i.project is found])
        return svc.listing(request, items, svc.shapes(request).issue)

    def all_issues(request: Request, ident: Identity) -> Reply:
        items = issue_filters(request, scoped(request, ident, list(up.world.gl_issues), "author", "assignees"))
        return svc.listing(request, items, svc.shapes(request).issue)

    def not_found(request: Request, ident: Identity) -> Reply:
        raise HttpProblem(404, "Not Found")

    return [
        svc.route("/user", user),
        svc.route("/projects", projects),
        svc.route("/groups/{gid:path}/projects", group_projects),
        svc.route("/merge_requests", all_mrs),
        svc.route("/issues", all_issues),
        *delivery_routes(svc),
        svc.route("/projects/{id:path}/merge_requests/{iid:int}", project_mr),
        svc.route("/projects/{id:path}/merge_requests", project_mrs),
        svc.route("/projects/{id:path}/pipelines/{pid:int}", pipeline),
        svc.route("/projects/{id:path}/pipelines", pipelines),
        svc.route("/projects/{id:path}/issues", project_issues),
        svc.route("/projects/{id:path}", project),
        svc.route("/{rest:path}", not_found, methods=("GET", "POST", "PUT", "DELETE")),
    ]
