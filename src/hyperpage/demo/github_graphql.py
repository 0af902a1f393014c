"""Fake GitHub GraphQL (`POST /github/graphql`): GitHub's published schema executed by graphql-core over the world.

Only what the portal asks for has resolvers (rate limit, a repository's pull requests with their commits, draft
events and reviews); any other field of the real schema resolves to null, and a non-null one becomes an error
the way graphql-core reports it. Queries are validated against the schema first, so a field GitHub does not have
fails here as it would there.

Cost follows https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api: each
connection costs the requests needed to fill it (the product of the `first`/`last` of the connections around
it), the sum / 100 rounded, at least 1. The points are charged to the token's `graphql` quota before the query
runs; `rateLimit` shows the cost and what remains.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute_sync,
    parse,
    validate,
    value_from_ast_untyped,
)
from hyperpage.demo.graphql_schema import SchemaMissing, load_schema
from hyperpage.demo.httpkit import HttpProblem, Reply, iso_z
from hyperpage.demo.world import PullRequest, Repo, Review

if TYPE_CHECKING:
    from hyperpage.demo.github_api import GitHubService
    from hyperpage.demo.service import Identity

MAX_PAGE = 100  # GitHub refuses first/last above 100


class NotFoundError(GraphQLError):
    """Rendered with GitHub's `"type": "NOT_FOUND"`."""


def cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def _offset(value: str | None) -> int:
    if not value:
        return -1
    try:
        return int(base64.b64decode(value).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise GraphQLError(f"`{value}` does not appear to be a valid cursor.") from None


def connection(items: list[Any], args: dict[str, Any], name: str) -> dict[str, Any]:
    """Relay paging over a list: first/after from the start, last/before from the end."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
    for key, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLError(
                f"Requesting {value} records on the `{name}` connection exceeds the `{key}` limit of 100 records."
            )
    start = _offset(args.get("after")) + 1
    end = _offset(args.get("before")) if args.get("before") else len(items)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    window = list(enumerate(items))[start:end]
    return {
        "totalCount": len(items),
        "nodes": [item for _, item in window],
        "edges": [{"cursor": cursor(i), "node": item} for i, item in window],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursor(window[0][0]) if window else None,
            "endCursor": cursor(window[-1][0]) if window else None,
        },
    }


def query_cost(document: Any, operation: OperationDefinitionNode, variables: dict[str, Any]) -> int:
    """GitHub's documented rate-limit cost of one operation (at least 1)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def walk(selection_set: SelectionSetNode | None, multiplier: int) -> int:
        total = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments or ()}
                size = args.get("first") or args.get("last")
                if isinstance(size, int):  # a connection: one request per parent, its items multiply below
                    total += multiplier + walk(node.selection_set, multiplier * size)
                else:
                    total += walk(node.selection_set, multiplier)
            elif isinstance(node, InlineFragmentNode):
                total += walk(node.selection_set, multiplier)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
                total += walk(fragments[node.name.value].selection_set, multiplier)
        return total

    return max(1, round(walk(operation.selection_set, 1) / 100))


class Resolvers:
    """Dicts and callables graphql-core's default resolver walks (a callable gets `info, **arguments`)."""

    def __init__(self, svc: GitHubService, ident: Identity, cost: int, web: str) -> None:
        self.svc, self.ident, self.cost, self.web = svc, ident, cost, web

    def root(self) -> dict[str, Any]:
        return {
            "rateLimit": self.rate_limit,
            "repository": self.repository,
            "viewer": self.actor(self.ident.person.index),
        }

    def rate_limit(self, info: Any, **_: Any) -> dict[str, Any]:
        bucket = self.svc.up.quota.bucket("github", self.ident.token, "graphql")
        reset = datetime.fromtimestamp(bucket.reset_epoch, UTC)
        return {
            "cost": self.cost,
            "limit": bucket.limit,
            "remaining": bucket.remaining,
            "used": bucket.used,
            "resetAt": _iso(reset),
            "nodeCount": 0,
        }

    def actor(self, index: int | None, bot: str | None = None) -> dict[str, Any] | None:
        if bot is not None:
            return {"__typename": "Bot", "login": bot, "url": f"{self.web}/apps/{bot}"}
        if index is None:
            return None
        person = self.svc.up.world.people[index]
        return {"__typename": "User", "login": person.login, "name": person.name, "url": f"{self.web}/{person.login}"}

    def repository(self, info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        repo = self.svc.up.world.repo(f"{owner}/{name}")
        if repo is None:
            raise NotFoundError(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return {
            "__typename": "Repository",
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "url": f"{self.web}/{repo.full_name}",
            "pullRequests": lambda info, **args: self.pull_requests(repo, args),
        }

    def pull_requests(self, repo: Repo, args: dict[str, Any]) -> dict[str, Any]:
        items = [p for p in self.svc.up.world.pulls if p.repo is repo]
        if states := args.get("states"):
            items = [p for p in items if _state(p) in states]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        key: Callable[[PullRequest], Any] = {
            "CREATED_AT": lambda p: (p.created_at, p.number),
            "UPDATED_AT": lambda p: (p.updated_at, p.number),
        }[order["field"]]
        items.sort(key=key, reverse=order.get("direction") == "DESC")
        page = connection(items, args, "pullRequests")
        page["nodes"] = [self.pull(p) for p in page["nodes"]]
        page["edges"] = [{**e, "node": self.pull(e["node"])} for e in page["edges"]]
        return page

    def pull(self, pr: PullRequest) -> dict[str, Any]:
        merge = pr.merge_sha
        return {
            "__typename": "PullRequest",
            "fullDatabaseId": str(pr.id),
            "databaseId": pr.id,
            "number": pr.number,
            "title": pr.title,
            "body": pr.body,
            "state": _state(pr),
            "isDraft": pr.draft,
            "url": f"{self.web}/{pr.repo.full_name}/pull/{pr.number}",
            "createdAt": _iso(pr.created_at),
            "updatedAt": _iso(pr.updated_at),
            "mergedAt": iso_z(pr.merged_at),
            "closedAt": iso_z(pr.closed_at),
            "author": self.actor(pr.user),
            "mergeCommit": {"oid": merge, "abbreviatedOid": merge[:7]} if merge else None,
            "commits": lambda info, **args: connection(self.commits(pr), args, "commits"),
            "timelineItems": lambda info, **args: self.timeline(pr, args),
            "reviews": lambda info, **args: connection([self.review(r) for r in pr.reviews], args, "reviews"),
        }

    def commits(self, pr: PullRequest) -> list[dict[str, Any]]:
        return [
            {"commit": {"oid": c.sha, "authoredDate": _iso(c.authored_at), "committedDate": _iso(c.authored_at)}}
            for c in pr.commit_list()
        ]

    def timeline(self, pr: PullRequest, args: dict[str, Any]) -> dict[str, Any]:
        wanted = {"READY_FOR_REVIEW_EVENT": "ReadyForReviewEvent", "CONVERT_TO_DRAFT_EVENT": "ConvertToDraftEvent"}
        kinds = {wanted.get(t) for t in args.get("itemTypes") or wanted}
        events = [
            {"__typename": kind, "createdAt": _iso(at), "actor": self.actor(pr.user)}
            for kind, at in pr.timeline
            if kind in kinds
        ]
        return connection(events, args, "timelineItems")

    def review(self, review: Review) -> dict[str, Any]:
        return {
            "__typename": "PullRequestReview",
            "fullDatabaseId": str(review.id),
            "databaseId": review.id,
            "state": review.state,
            "submittedAt": _iso(review.submitted_at),
            "createdAt": _iso(review.submitted_at - timedelta(seconds=30)),
            "author": self.actor(review.user, review.bot_login),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state(pr: PullRequest) -> str:
    return "MERGED" if pr.merged_at else ("OPEN" if pr.state == "open" else "CLOSED")


def answer(svc: GitHubService, schema: GraphQLSchema, ident: Identity, body: dict[str, Any], web: str) -> Reply:
    """Validate, cost, charge and execute one request body ({query, variables, operationName})."""
    source, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(source, str) or not isinstance(variables, dict):
        raise HttpProblem(400, "Problems parsing JSON")
    try:
        document = parse(source)
    except GraphQLError as exc:
        return Reply({"errors": [_error(exc)]}, conditional=False, charge=False)
    errors = validate(schema, document)
    if errors:
        return Reply({"errors": [_error(e) for e in errors]}, conditional=False, charge=False)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    operation = next((o for o in operations if name is None or (o.name and o.name.value == name)), None)
    if operation is None:
        return Reply({"errors": [{"message": f"No operation named {name!r}"}]}, conditional=False, charge=False)
    cost = query_cost(document, operation, variables)
    bucket = svc.up.quota.bucket("github", ident.token, "graphql")
    bucket.remaining = max(0, bucket.remaining - cost)
    svc.up.stats.charged["github"] += cost
    resolvers = Resolvers(svc, ident, cost, web)
    result = execute_sync(schema, document, resolvers.root(), variable_values=variables, operation_name=name)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error(e) for e in result.errors]
    return Reply(payload, conditional=False, charge=False)


def _error(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message}
    if error.path:
        out["path"] = error.path
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if isinstance(error.original_error, NotFoundError) or isinstance(error, NotFoundError):
        out["type"] = "NOT_FOUND"
    return out


def routes(svc: GitHubService) -> list[BaseRoute]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None

        def handler(request: Request, ident: Identity) -> Reply:
            if not isinstance(body, dict):
                raise HttpProblem(400, "Problems parsing JSON")
            try:
                schema = load_schema(svc.up.config.github_graphql_schema)
            except SchemaMissing as exc:
                raise HttpProblem(501, f"GraphQL is not served by this fake: {exc}") from None
            return answer(svc, schema, ident, body, svc.shapes(request).web)

        return await svc.serve_counted(request, "/graphql", handler, "graphql")

    return [Route("/graphql", endpoint, methods=["POST"], name="github:/graphql")]
