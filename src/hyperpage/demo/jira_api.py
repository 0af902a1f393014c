"""Fake Jira under /jira: Cloud enhanced search (nextPageToken) and Data Center search (startAt/total).

Jira sends no ETags on search and no quota headers until a limit is hit, so this service has neither;
its 429 (a fault) carries Retry-After and the X-RateLimit-* set Jira Cloud documents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hyperpage.demo.faults import Fault
from hyperpage.demo.httpkit import HttpProblem, Reply, jira_time
from hyperpage.demo.jira_shapes import JiraShapes
from hyperpage.demo.jql import JqlError, parse_jql, sort_issues
from hyperpage.demo.service import Handler, Identity, Service, bearer_or_token

UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


def errors(*messages: str) -> dict[str, Any]:
    return {"errorMessages": list(messages), "errors": {}}


class JiraService(Service):
    name = "jira"
    prefix = "/jira"

    def authenticate(self, request: Request) -> Identity | Response:
        cfg = self.up.config
        header = request.headers.get("authorization", "")
        index: int | None = None
        credential = ""
        if header.lower().startswith("basic "):
            try:
                email, _, token = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            known = cfg.jira_basic.get(email)
            if known is not None and known[0] == token:
                index, credential = known[1], f"basic:{email}:{token}"
        elif (pat := bearer_or_token(request)) is not None and pat in cfg.jira_pats:
            index, credential = cfg.jira_pats[pat], f"pat:{pat}"
        if index is None:
            return self.json(
                errors("You are not authenticated. Authentication required to perform this operation."), 401
            )
        return Identity(token=credential, person=self.up.world.people[index])

    def fault_response(self, fault: Fault, ident: Identity, resource: str) -> Response:
        if fault.kind in ("rate_limit", "secondary_rate_limit"):
            reset = datetime.fromtimestamp(self.up.clock(), UTC) + timedelta(seconds=fault.retry_after)
            headers = {
                "Retry-After": str(fault.retry_after),
                "X-RateLimit-Limit": "350",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                "X-RateLimit-NearLimit": "true",
                "RateLimit-Reason": "jira-quota-tenant-based",
            }
            return self.json(errors("Rate limit exceeded."), 429, headers)
        if fault.status == 500:
            return self.json(errors("Internal server error"), 500)
        return Response(
            "<html><body>Service Unavailable</body></html>",
            status_code=fault.status,
            media_type="text/html; charset=utf-8",
        )

    def problem_response(self, problem: HttpProblem) -> Response:
        return self.json({**errors(problem.message), "warningMessages": []}, problem.status)

    def shapes(self, request: Request, cloud: bool) -> JiraShapes:
        return JiraShapes(f"{request.url.scheme}://{request.url.netloc}/jira", self.up.world.people, cloud)


async def _body(request: Request) -> dict[str, Any] | HttpProblem:
    """The search parameters, or the problem to report once the request is authenticated."""
    try:
        return await _read_body(request)
    except HttpProblem as problem:
        return problem


async def _read_body(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        q = request.query_params
        out: dict[str, Any] = {k: q[k] for k in ("jql", "nextPageToken", "startAt", "maxResults") if k in q}
        if "fields" in q:
            out["fields"] = q.getlist("fields")
        return out
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise HttpProblem(400, "Invalid request payload. Refer to the REST API documentation and try again.") from None
    if not isinstance(body, dict):
        raise HttpProblem(400, "Invalid request payload. Refer to the REST API documentation and try again.")
    return body


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpProblem(400, f"The value for '{name}' is invalid.") from None


def routes(svc: JiraService) -> list[BaseRoute]:
    up = svc.up
    cfg = up.config

    def run_query(ident: Identity, jql: str, cloud: bool) -> list[Any]:
        try:
            query = parse_jql(jql, ident.person, up.world.people, datetime.fromtimestamp(up.clock(), UTC))
            if cloud and not query.bounded:
                raise HttpProblem(400, UNBOUNDED)
            return sort_issues([i for i in up.world.jira_issues if query.matches(i)], query.order)
        except JqlError as exc:
            raise HttpProblem(400, str(exc)) from None

    def page_token(jql: str, offset: int) -> str:
        digest = hashlib.sha256(jql.encode()).hexdigest()[:8]
        return base64.urlsafe_b64encode(f"{digest}:{offset}".encode()).decode()

    def read_token(jql: str, token: str) -> int:
        try:
            digest, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
            if digest == hashlib.sha256(jql.encode()).hexdigest()[:8]:
                return int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        raise HttpProblem(400, "The provided next page token is invalid or expired.")

    async def cloud_search(request: Request) -> Response:
        body = await _body(request)

        def handler(req: Request, ident: Identity) -> Reply:
            if isinstance(body, HttpProblem):
                raise body
            jql = str(body.get("jql") or "")
            issues = run_query(ident, jql, cloud=True)
            offset = read_token(jql, str(body["nextPageToken"])) if body.get("nextPageToken") else 0
            size = min(max(1, _int(body, "maxResults", cfg.jira_default_page)), cfg.jira_max_page)
            chunk = issues[offset : offset + size]
            wanted = body.get("fields")
            shapes = svc.shapes(req, cloud=True)
            out: dict[str, Any] = {"issues": [shapes.issue(i, wanted if wanted is not None else None) for i in chunk]}
            if offset + size < len(issues):
                # Jira omits the key on the last page rather than sending null.
                out["nextPageToken"] = page_token(jql, offset + size)
            out["isLast"] = offset + size >= len(issues)
            return Reply(out, conditional=False)

        return await svc.serve_counted(request, "/rest/api/3/search/jql", handler)

    async def dc_search(request: Request) -> Response:
        body = await _body(request)

        def handler(req: Request, ident: Identity) -> Reply:
            if isinstance(body, HttpProblem):
                raise body
            issues = run_query(ident, str(body.get("jql") or ""), cloud=False)
            start = max(0, _int(body, "startAt", 0))
            size = min(max(0, _int(body, "maxResults", cfg.jira_default_page)), cfg.jira_max_page)
            wanted = body.get("fields") or ["*navigable"]
            shapes = svc.shapes(req, cloud=False)
            return Reply(
                {
                    "expand": "schema,names",
                    "startAt": start,
                    "maxResults": size,
                    "total": len(issues),
                    "issues": [shapes.issue(i, wanted) for i in issues[start : start + size]],
                },
                conditional=False,
            )

        return await svc.serve_counted(request, "/rest/api/2/search", handler)

    def myself(cloud: bool) -> Handler:
        def handler(request: Request, ident: Identity) -> Reply:
            return Reply(svc.shapes(request, cloud).myself(ident.person), conditional=False)

        return handler

    def server_info(cloud: bool) -> Handler:
        def handler(request: Request, ident: Identity) -> Reply:
            base = f"{request.url.scheme}://{request.url.netloc}/jira"
            version = ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud") if cloud else ("9.12.15", [9, 12, 15], "Server")
            return Reply(
                {
                    "baseUrl": base,
                    "version": version[0],
                    "versionNumbers": version[1],
                    "deploymentType": version[2],
                    "buildNumber": 100_300,
                    "buildDate": "2026-10-01T00:00:00.000+0000",
                    "serverTime": jira_time(datetime.fromtimestamp(up.clock(), UTC)),
                    "scmInfo": "fake",
                    "serverTitle": "Jira",
                },
                conditional=False,
            )

        return handler

    def not_found(request: Request, ident: Identity) -> Reply:
        raise HttpProblem(404, "Null for uri: " + str(request.url))

    from starlette.routing import Route

    return [
        Route("/rest/api/3/search/jql", cloud_search, methods=["GET", "POST"]),
        Route("/rest/api/2/search", dc_search, methods=["GET", "POST"]),
        svc.route("/rest/api/3/myself", myself(True)),
        svc.route("/rest/api/2/myself", myself(False)),
        svc.route("/rest/api/3/serverInfo", server_info(True)),
        svc.route("/rest/api/2/serverInfo", server_info(False)),
        svc.route("/{rest:path}", not_found, methods=("GET", "POST", "PUT", "DELETE")),
    ]
