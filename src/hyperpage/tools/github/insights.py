"""What the insights (docs/insights.md) read from GitHub: pull-request details, deployments, incidents.

- Pull-request details come through GraphQL (graphql.py): one query per page of pull requests, newest update
  first, stopping at the high-water mark like the REST pull-request sync. A pull request whose row the REST sync
  has not stored yet holds the mark back, so the next run fetches it again.
- Deployments come from the Deployments API with their statuses; the commits each brought from the compare
  between it and the previous deployment of the same repository and environment. The first deployment of an
  environment has nothing to compare with: `commits_known` stays false (nothing is guessed).
- Incidents are issues carrying one of the connection's incident labels; resolved = closed.
Nothing is deleted here: a failed or partial run keeps every row already stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hyperpage.insights.models import Incident
from hyperpage.tools import insights_store
from hyperpage.tools.base import JobContext, JobResult, parse_time, stable_since
from hyperpage.tools.errors import NotFound
from hyperpage.tools.github import graphql, mappers
from hyperpage.tools.github.pager import pages

REVERTS = re.compile(r"^Reverts ([\w.-]+/[\w.-]+)#(\d+)", re.MULTILINE)  # what GitHub's revert button writes
REVERTS_COMMIT = re.compile(r"This reverts commit ([0-9a-f]{7,40})")  # git revert's message


async def sync_pull_request_details(ctx: JobContext) -> JobResult:
    owner, _, name = ctx.scope.partition("/")
    mark = None if ctx.full else ctx.high_water_mark
    if mark is not None and not await insights_store.changed_since(ctx, mark):
        return ctx.finish()  # GraphQL has no 304: ask nothing while the REST sync saw no pull request change
    variables: dict[str, Any] = {"owner": owner, "name": name, "first": ctx.settings.sync_github_graphql_page_size}
    waiting: list[datetime] = []  # updatedAt of pull requests whose row is not stored yet
    partial = False
    while True:
        data, problems = await graphql.execute(ctx, graphql.PULL_REQUEST_DETAILS, variables)
        repository = data.get("repository")
        if not isinstance(repository, dict):
            raise NotFound(f"GraphQL: repository {ctx.scope} not found", status_code=404)
        listing = repository.get("pullRequests") or {}
        nodes = [n for n in listing.get("nodes") or [] if isinstance(n, dict)]
        if problems:
            partial = True
            ctx.result.problems += [f"GraphQL: {message}" for message in problems[:5]]
        fresh = [n for n in nodes if mark is None or (parse_time(n.get("updatedAt")) or mark) >= mark]
        waiting += await _store_details(ctx, fresh)
        info = listing.get("pageInfo") or {}
        if len(fresh) < len(nodes) or not info.get("hasNextPage") or not info.get("endCursor"):
            break  # sorted newest first: the rest is older than the high-water mark
        variables["after"] = info["endCursor"]
    result = ctx.finish()
    if partial:  # some details did not arrive: read the same pull requests again next time
        result.high_water_mark = ctx.high_water_mark
    elif waiting:
        result.high_water_mark = min(waiting)
    return result


async def _store_details(ctx: JobContext, nodes: list[dict[str, Any]]) -> list[datetime]:
    """Store timelines and reviews of the pull requests already stored; return the others' updatedAt."""
    if not nodes:
        return []
    stored = await insights_store.stored_pull_requests(ctx, [str(n.get("fullDatabaseId")) for n in nodes])
    waiting, mapped = [], []
    for node in nodes:
        key = str(node.get("fullDatabaseId"))
        if key not in stored:
            if updated := parse_time(node.get("updatedAt")):
                waiting.append(updated)
            continue
        mapped += ctx.map(details, [node], pull_request_id=stored[key][0], scope=ctx.scope, now=ctx.now)
    await insights_store.store_details(ctx, mapped)
    for node in nodes:
        if str(node.get("fullDatabaseId")) in stored:
            ctx.advance(parse_time(node.get("updatedAt")))
    return waiting


def details(node: dict[str, Any], *, pull_request_id: int, scope: str, now: datetime) -> dict[str, Any]:
    """One GraphQL pull request -> its pull_request_timelines row and pull_request_reviews rows."""
    author = (node.get("author") or {}).get("login")
    reviews: list[dict[str, Any]] = []
    for review in (node.get("reviews") or {}).get("nodes") or []:
        submitted = parse_time((review or {}).get("submittedAt"))
        if submitted is None:  # a pending review: not submitted yet
            continue
        actor = review.get("author") or {}
        reviews.append(
            {
                "pull_request_id": pull_request_id,
                "external_id": str(review["fullDatabaseId"]),
                "reviewer": actor.get("login"),
                "reviewer_is_bot": actor.get("__typename") == "Bot",
                "state": str(review["state"]),
                "submitted_at": submitted,
            }
        )
    first = insights_store.first_review(reviews, author)
    commits = (node.get("commits") or {}).get("nodes") or []
    events = [e for e in (node.get("timelineItems") or {}).get("nodes") or [] if isinstance(e, dict)]
    ready = [parse_time(e.get("createdAt")) for e in events if e.get("__typename") == "ReadyForReviewEvent"]
    body = node.get("body") or ""
    reverted = REVERTS.search(body)
    reverted_commit = REVERTS_COMMIT.search(body)
    timeline = {
        "pull_request_id": pull_request_id,
        "first_commit_at": parse_time(((commits[0] or {}).get("commit") or {}).get("authoredDate"))
        if commits
        else None,
        # still a draft: not ready yet; else the last draft -> ready, or opened ready
        "ready_for_review_at": None
        if node.get("isDraft")
        else max(filter(None, ready), default=None) or parse_time(node["createdAt"]),
        "first_review_at": first["submitted_at"] if first else None,
        "first_reviewer": first["reviewer"] if first else None,
        "merge_commit_sha": (node.get("mergeCommit") or {}).get("oid"),
        "reverts_number": int(reverted.group(2)) if reverted and reverted.group(1).lower() == scope.lower() else None,
        "reverts_sha": reverted_commit.group(1) if reverted_commit else None,
        "synced_at": now,
    }
    return {"timeline": timeline, "reviews": reviews}


async def sync_incidents(ctx: JobContext) -> JobResult:
    """Issues with any of the connection's incident labels (GitHub's `labels` filter means all of them, so one
    listing per label); a single label keeps the conditional first request."""
    labels = ctx.spec.incident_labels or ("incident",)
    params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
    if not ctx.full and ctx.high_water_mark:
        params["since"] = stable_since(ctx.high_water_mark).strftime("%Y-%m-%dT%H:%M:%SZ")
    for label in labels:
        async for page in pages(
            ctx, f"/repos/{ctx.scope}/issues", {**params, "labels": label}, conditional=len(labels) == 1
        ):
            only_issues = [item for item in page if not (isinstance(item, dict) and "pull_request" in item)]
            rows = ctx.map_scoped(mappers.incident, only_issues, Incident.__table__, repo=ctx.scope)
            await ctx.write(Incident.__table__, rows)
            for item in only_issues:
                ctx.advance(parse_time(item.get("updated_at")))
    if len(labels) > 1:
        ctx.result.etag = ctx.result.last_modified = None
    return ctx.finish()
