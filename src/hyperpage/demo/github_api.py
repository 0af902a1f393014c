"""Fake GitHub REST API under /github: auth, per-token quotas, faults and the list/single endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hyperpage.demo.faults import Fault
from hyperpage.demo.github_deploy import routes as deploy_routes
from hyperpage.demo.github_graphql import routes as graphql_routes
from hyperpage.demo.github_review_api import routes as review_routes
from hyperpage.demo.github_search import search_issues
from hyperpage.demo.github_shapes import GitHubShapes
from hyperpage.demo.httpkit import HttpProblem, Reply, latest, link_header, page_of, parse_time
from hyperpage.demo.service import Handler, Identity, Service, bearer_or_token
from hyperpage.demo.world import GhIssue, PullRequest, Repo

DOCS = "https://docs.github.com/rest"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
LINK_ORDER = ("prev", "next", "last", "first")
ANONYMOUS = "anonymous"
# GET /rate_limit neither costs quota nor is refused when the quota is gone; its headers show core.
FREE = "free"
# The REST API version served unless the request's X-GitHub-Api-Version asks for 2026-03-10, which drops
# `merge_commit_sha` from pull requests and the singular `assignee` (x-github-breaking-changes in the spec).
DEFAULT_VERSION = "2022-11-28"
REPO_ROOTS = ("/repos/{owner}/{repo}", "/repositories/{id:int}")


class GitHubService(Service):
    name = "github"
    prefix = "/github"

    def common_headers(self) -> dict[str, str]:
        return {
            "x-github-api-version-selected": "2022-11-28",
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": self.up.request_id(),
            "vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            "cache-control": "private, max-age=60, s-maxage=60",
        }

    def problem(self, status: int, message: str, extra: dict[str, Any] | None = None) -> Response:
        return self.json(
            {"message": message, "documentation_url": DOCS, "status": str(status), **(extra or {})},
            status,
            self.common_headers(),
        )

    def authenticate(self, request: Request) -> Identity | Response:
        token = bearer_or_token(request)
        person_index = self.up.config.github_tokens.get(token) if token else None
        if person_index is None:
            # GitHub answers a bad token with 401 and the anonymous (60/h) quota headers.
            bucket = self.up.quota.charge("github", ANONYMOUS, "anonymous")
            response = self.problem(401, "Bad credentials" if token else "Requires authentication")
            response.headers.update(self._headers(bucket.as_dict(), "core"))
            return response
        return Identity(token=token or "", person=self.up.world.people[person_index])

    @staticmethod
    def _headers(b: dict[str, int], resource: str) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(b["limit"]),
            "x-ratelimit-remaining": str(b["remaining"]),
            "x-ratelimit-reset": str(b["reset"]),
            "x-ratelimit-used": str(b["used"]),
            "x-ratelimit-resource": resource,
        }

    def rate_headers(self, ident: Identity, resource: str) -> dict[str, str]:
        resource = "core" if resource == FREE else resource
        return self._headers(self.up.quota.bucket("github", ident.token, resource).as_dict(), resource)

    def charge(self, ident: Identity, resource: str) -> None:
        if resource == FREE:
            return
        self.up.quota.charge("github", ident.token, resource)
        self.up.stats.charged["github"] += 1

    def quota_response(self, ident: Identity, resource: str) -> Response | None:
        if resource == FREE:
            return None
        if self.up.quota.bucket("github", ident.token, resource).remaining > 0:
            return None
        if resource == "graphql":  # GraphQL says so in the body, with a 200 and the quota headers
            message = f"API rate limit exceeded for user ID {ident.person.github_id}."
            body = {"errors": [{"type": "RATE_LIMITED", "message": message}]}
            return self.json(body, 200, self.rate_headers(ident, resource))
        response = self.problem(
            403,
            f"API rate limit exceeded for user ID {ident.person.github_id}. If you reach out "
            f"to GitHub Support for help, please include the request ID "
            f"{self.up.request_id()}.",
        )
        response.headers.update(self.rate_headers(ident, resource))
        return response

    def concurrency_response(self, ident: Identity, resource: str, depth: int) -> Response | None:
        if depth <= self.up.config.github_max_concurrent:
            return None
        return self.secondary_limit(ident, resource, 403, {"retry-after": "60"})

    def secondary_limit(self, ident: Identity, resource: str, status: int, extra: dict[str, str]) -> Response:
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {self.up.request_id()}."
        )
        headers = {**self.rate_headers(ident, resource), **extra}
        return self.json(
            {"message": message, "documentation_url": SECONDARY_DOCS, "status": str(status)}, status, headers
        )

    def fault_response(self, fault: Fault, ident: Identity, resource: str) -> Response:
        if fault.kind in ("rate_limit", "secondary_rate_limit"):
            status = 429 if fault.kind == "rate_limit" else fault.status
            if fault.kind == "secondary_rate_limit" and fault.mode == "remaining_zero":
                limit = str(self.up.quota.bucket("github", ident.token, "core" if resource == FREE else resource).limit)
                reset = str(int(self.up.clock()) + fault.retry_after)
                extra = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset, "x-ratelimit-used": limit}
            else:
                extra = {"retry-after": str(fault.retry_after)}
            return self.secondary_limit(ident, resource, status, extra)
        headers = self.rate_headers(ident, resource)
        if fault.status == 500:
            return self.json({"message": "Server Error", "documentation_url": DOCS, "status": "500"}, 500, headers)
        # GitHub's 502/503 come from the edge as HTML, not JSON.
        return Response(
            "<html><body><h1>Unicorn! This page is taking too long to load.</h1></body></html>",
            status_code=fault.status,
            media_type="text/html; charset=utf-8",
        )

    def problem_response(self, problem: HttpProblem) -> Response:
        response = self.problem(problem.status, problem.message, problem.extra)
        response.headers.update(problem.headers)
        return response

    # Helpers used by the handlers.
    def shapes(self, request: Request) -> GitHubShapes:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return GitHubShapes(
            api=origin + self.prefix,
            web=origin + "/github-web",
            people=self.up.world.people,
            version=request.headers.get("x-github-api-version", DEFAULT_VERSION),
        )

    def find_repo(self, request: Request) -> Repo:
        """By `owner/repo`, or by id under /repositories/{id} (where GitHub's own Link URLs point). A
        renamed repository's old name answers 301 to /repositories/{id}, as GitHub does
        (https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects)."""
        params = request.path_params
        if "id" in params:
            repo = next((r for r in self.up.world.repos if r.id == params["id"]), None)
        else:
            full_name = f"{params['owner']}/{params['repo']}"
            repo = self.up.world.repo(full_name)
            moved = self.up.world.renamed.get(full_name.lower())
            if repo is None and moved is not None:
                old = f"{self.prefix}/repos/{params['owner']}/{params['repo']}"
                target = str(
                    request.url.replace(path=request.url.path.replace(old, f"{self.prefix}/repositories/{moved.id}", 1))
                )
                raise HttpProblem(301, "Moved Permanently", headers={"location": target}, extra={"url": target})
        if repo is None:
            raise HttpProblem(404, "Not Found")
        return repo

    def repo_routes(self, handlers: dict[str, Handler]) -> list[BaseRoute]:
        """Each `suffix: handler` under both roots GitHub answers a repository's paths at: owner/name and the
        numeric id (what stays reachable after a rename, and what our Link URLs use)."""
        return [self.route(root + suffix, handler) for root in REPO_ROOTS for suffix, handler in handlers.items()]

    def repo_link(self, request: Request, link: str | None) -> str | None:
        """GitHub's Link URLs of repository lists name the repository by id, not by owner/name."""
        params = request.path_params
        if not link or "owner" not in params:
            return link
        repo = self.up.world.repo(f"{params['owner']}/{params['repo']}")
        if repo is None:
            return link
        return link.replace(
            f"{self.prefix}/repos/{params['owner']}/{params['repo']}/", f"{self.prefix}/repositories/{repo.id}/"
        )

    def listing(
        self, request: Request, items: list[Any], render: Callable[[Any], Any], default_per_page: int = 30
    ) -> Reply:
        page = page_of(request, len(items), default_per_page)
        headers = {}
        link = self.repo_link(request, link_header(request, page, LINK_ORDER))
        if link:
            headers["link"] = link
        stamps = [getattr(i, "updated_at", None) for i in items]
        return Reply([render(i) for i in page.slice(items)], headers=headers, last_modified=latest(*stamps))


def ordered(request: Request, items: list[Any], allowed: tuple[str, ...], default: str) -> list[Any]:
    """GitHub's sort/direction: direction defaults to desc for `created`, asc for the other keys."""
    sort = request.query_params.get("sort") or default
    if sort not in allowed:
        raise HttpProblem(422, "Validation Failed")
    key = {
        "created": "created_at",
        "updated": "updated_at",
        "pushed": "pushed_at",
        "full_name": "full_name",
        "comments": "comments",
    }[sort]
    direction = request.query_params.get("direction") or ("desc" if sort == "created" else "asc")
    if sort == "full_name" and not request.query_params.get("direction"):
        direction = "asc"
    return sorted(items, key=lambda i: (getattr(i, key), i.id), reverse=direction == "desc")


def state_filter(request: Request, items: list[Any]) -> list[Any]:
    state = request.query_params.get("state") or "open"
    if state not in ("open", "closed", "all"):
        raise HttpProblem(422, "Validation Failed")
    return items if state == "all" else [i for i in items if i.state == state]


def routes(svc: GitHubService) -> list[BaseRoute]:
    up = svc.up

    def user(request: Request, ident: Identity) -> Reply:
        repos = [r for r in up.world.repos if ident.person.index in r.members]
        return Reply(svc.shapes(request).authenticated_user(ident.person, len(repos)))

    def user_repos(request: Request, ident: Identity) -> Reply:
        repos = [r for r in up.world.repos if ident.person.index in r.members]
        visibility = request.query_params.get("visibility", "all")
        if visibility != "all":
            repos = [r for r in repos if r.private == (visibility == "private")]
        shapes = svc.shapes(request)
        return svc.listing(
            request,
            ordered(request, repos, ("created", "updated", "pushed", "full_name"), "full_name"),
            lambda r: shapes.repo(r, open_issues(r)),
        )

    def org_repos(request: Request, ident: Identity) -> Reply:
        org = request.path_params["org"].lower()
        if not any(o.login == org for o in up.world.orgs):
            raise HttpProblem(404, "Not Found")
        repos = [r for r in up.world.repos if r.owner.login == org]
        shapes = svc.shapes(request)
        return svc.listing(
            request,
            ordered(request, repos, ("created", "updated", "pushed", "full_name"), "created"),
            lambda r: shapes.repo(r, open_issues(r)),
        )

    def open_issues(repo: Repo) -> int:
        every: tuple[PullRequest | GhIssue, ...] = (*up.world.pulls, *up.world.gh_issues)
        return sum(1 for i in every if i.repo is repo and i.state == "open")

    def repo(request: Request, ident: Identity) -> Reply:
        found = svc.find_repo(request)
        return Reply(svc.shapes(request).repo(found, open_issues(found)), last_modified=found.updated_at)

    def pulls(request: Request, ident: Identity) -> Reply:
        found = svc.find_repo(request)
        items = state_filter(request, [p for p in up.world.pulls if p.repo is found])
        if base := request.query_params.get("base"):
            items = [p for p in items if p.base_ref == base]
        if head := request.query_params.get("head"):
            items = [p for p in items if f"{p.repo.owner.login}:{p.head_ref}" == head]
        shapes = svc.shapes(request)
        return svc.listing(request, ordered(request, items, ("created", "updated"), "created"), shapes.pull)

    def pull(request: Request, ident: Identity) -> Reply:
        found = svc.find_repo(request)
        number = int(request.path_params["number"])
        pr = next((p for p in up.world.pulls if p.repo is found and p.number == number), None)
        if pr is None:
            raise HttpProblem(404, "Not Found")
        return Reply(svc.shapes(request).pull(pr, single=True), last_modified=pr.updated_at)

    def issues(request: Request, ident: Identity) -> Reply:
        found = svc.find_repo(request)
        every: tuple[GhIssue | PullRequest, ...] = (*up.world.gh_issues, *up.world.pulls)
        items: list[GhIssue | PullRequest] = [i for i in every if i.repo is found]
        items = state_filter(request, items)
        if since := parse_time(request.query_params.get("since"), "since"):
            items = [i for i in items if i.updated_at >= since]
        if labels := request.query_params.get("labels"):
            wanted = {lb.strip() for lb in labels.split(",") if lb.strip()}
            items = [i for i in items if wanted <= set(i.labels)]
        if creator := request.query_params.get("creator"):
            items = [i for i in items if up.world.people[i.user].login == creator]
        shapes = svc.shapes(request)
        return svc.listing(
            request, ordered(request, items, ("created", "updated", "comments"), "created"), shapes.issue
        )

    def issue(request: Request, ident: Identity) -> Reply:
        found = svc.find_repo(request)
        number = int(request.path_params["number"])
        every: tuple[GhIssue | PullRequest, ...] = (*up.world.gh_issues, *up.world.pulls)
        item = next((i for i in every if i.repo is found and i.number == number), None)
        if item is None:
            raise HttpProblem(404, "Not Found")
        return Reply(svc.shapes(request).issue(item), last_modified=item.updated_at)

    def runs(request: Request, ident: Identity) -> Reply:
        from hyperpage.demo.github_search import created_filter

        found = svc.find_repo(request)
        items = [r for r in up.world.runs if r.repo is found]
        q = request.query_params
        for param, attr in (("branch", "head_branch"), ("event", "event"), ("head_sha", "head_sha")):
            if q.get(param):
                items = [r for r in items if getattr(r, attr) == q[param]]
        if status := q.get("status"):
            items = [r for r in items if status in (r.status, r.conclusion)]
        if actor := q.get("actor"):
            items = [r for r in items if up.world.people[r.actor].login == actor]
        if created := q.get("created"):
            items = [r for r in items if created_filter(created, r.created_at)]
        items.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        page = page_of(request, len(items), 30)
        shapes = svc.shapes(request)
        link = svc.repo_link(request, link_header(request, page, LINK_ORDER))
        return Reply(
            {"total_count": len(items), "workflow_runs": [shapes.run(r) for r in page.slice(items)]},
            headers={"link": link} if link else {},
            last_modified=latest(*(r.updated_at for r in items)),
        )

    def search(request: Request, ident: Identity) -> Reply:
        return search_issues(svc, request, ident)

    def rate_limit(request: Request, ident: Identity) -> Reply:
        core, srch, gql = (up.quota.bucket("github", ident.token, r).as_dict() for r in ("core", "search", "graphql"))
        reset = int(datetime.now(UTC).timestamp()) + 3600
        static = {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset}
        return Reply(
            {
                "resources": {
                    "core": core,
                    "search": srch,
                    "graphql": gql,
                    "integration_manifest": static,
                    "code_search": {**static, "limit": 10, "remaining": 10},
                },
                "rate": core,
            },
            conditional=False,
            charge=False,
        )

    def not_found(request: Request, ident: Identity) -> Reply:
        raise HttpProblem(404, "Not Found")

    return [
        svc.route("/user", user),
        svc.route("/user/repos", user_repos),
        svc.route("/orgs/{org}/repos", org_repos),
        *svc.repo_routes(
            {
                "": repo,
                "/pulls": pulls,
                "/pulls/{number:int}": pull,
                "/issues": issues,
                "/issues/{number:int}": issue,
                "/actions/runs": runs,
            }
        ),
        svc.route("/search/issues", search, resource="search"),
        svc.route("/rate_limit", rate_limit, resource=FREE),
        *graphql_routes(svc),
        *deploy_routes(svc),
        *review_routes(svc),
        svc.route("/{rest:path}", not_found, methods=("GET", "POST", "PATCH", "PUT", "DELETE")),
    ]
