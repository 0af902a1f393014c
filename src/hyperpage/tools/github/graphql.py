"""GitHub GraphQL: the queries we send and the one function that sends them through the shared request loop.

Pull-request details (first commit, ready-for-review events, reviews, merge commit) cost 3 REST requests per
pull request; one GraphQL query fetches them for a page of pull requests for a few points. GraphQL's limit is
points-based (https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api), so
every query asks for `rateLimit` and the answer is recorded as the `graphql` quota sample.

Every document in QUERIES is validated against GitHub's published schema by the test suite
(tests/tools/test_github_graphql_schema.py); a field GitHub does not have fails there, not in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hyperpage.tools.base import JobContext, parse_time
from hyperpage.tools.errors import BadPayload, NotFound, RateLimited, ToolError
from hyperpage.tools.http import QuotaSample, decode_json

# Per pull request: its first 50 reviews (the earliest are what the metrics read; more is rare) and its last 20
# draft/ready events (the last "ready" is what counts).
PULL_REQUEST_DETAILS = """
query PullRequestDetails($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost limit remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        fullDatabaseId
        number
        title
        body
        createdAt
        updatedAt
        isDraft
        author { login }
        mergeCommit { oid }
        commits(first: 1) { nodes { commit { oid authoredDate } } }
        timelineItems(last: 20, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
          nodes {
            __typename
            ... on ReadyForReviewEvent { createdAt }
            ... on ConvertToDraftEvent { createdAt }
          }
        }
        reviews(first: 50) {
          nodes { fullDatabaseId state submittedAt author { __typename login } }
        }
      }
    }
  }
}
"""

QUERIES = {"PullRequestDetails": PULL_REQUEST_DETAILS}


class GraphQLError(ToolError):
    """GitHub answered 200 with `errors` and no usable data."""


def graphql_url(api_url: str) -> str:
    """api.github.com/graphql; GitHub Enterprise Server serves REST under /api/v3 and GraphQL at /api/graphql."""
    api_url = api_url.rstrip("/")
    if api_url.endswith("/api/v3"):
        return api_url.removesuffix("/v3") + "/graphql"
    return api_url + "/graphql"


async def execute(ctx: JobContext, document: str, variables: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """POST one query; returns (data, messages of partial errors).

    GitHub answers 200 with `errors` for a missing repository (NOT_FOUND), a spent quota (RATE_LIMITED) and
    fields it could not resolve (partial `data`). NOT_FOUND raises NotFound (each_scope records it),
    RATE_LIMITED raises RateLimited (the job resumes after the reset), errors without data raise GraphQLError;
    partial errors come back to the caller, which records them and keeps what did arrive."""
    response = await ctx.send("POST", graphql_url(ctx.spec.base_url), json={"query": document, "variables": variables})
    body = decode_json(response, dict)
    data = body.get("data")
    _record_rate_limit(ctx, data.get("rateLimit") if isinstance(data, dict) else None)
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    types = {str(e.get("type") or "") for e in errors}
    messages = [str(e.get("message") or e.get("type") or "error")[:200] for e in errors]
    if "RATE_LIMITED" in types:
        sample = ctx.client.samples.get("graphql")
        reset = sample.reset_at if sample and sample.reset_at else datetime.now(UTC) + timedelta(minutes=1)
        wait = max(reset - datetime.now(UTC), timedelta(seconds=1))
        raise RateLimited(f"GraphQL: {'; '.join(messages)}", retry_after=wait, status_code=response.status_code)
    if "NOT_FOUND" in types:
        raise NotFound(f"GraphQL: {'; '.join(messages)}", status_code=404)
    if not isinstance(data, dict) or (errors and not any(v is not None for k, v in data.items() if k != "rateLimit")):
        raise GraphQLError(f"GraphQL: {'; '.join(messages) or 'no data'}", status_code=response.status_code)
    return data, messages


def _record_rate_limit(ctx: JobContext, rate: Any) -> None:
    if not isinstance(rate, dict):
        return
    try:
        sample = QuotaSample("graphql", int(rate["limit"]), int(rate["remaining"]), parse_time(rate.get("resetAt")))
    except (KeyError, TypeError, ValueError):
        raise BadPayload("GraphQL: rateLimit has no limit/remaining") from None
    ctx.client.record_sample(sample)
