"""What the insights (docs/insights.md) read from GitLab: merge-request details and incidents (deployments are in
deployments.py).

- Merge-request details: the merged merge requests changed since the high-water mark (one listing, oldest update
  first), and for each the commits (first commit time) and the notes (draft -> ready, approvals, comments):
  https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-commits ,
  https://docs.gitlab.com/api/notes/#list-all-merge-request-notes . Only merged ones: the metrics read no other,
  and a merge request merged later is updated then, so it comes back into the window. A first sync reaches back
  SYNC_DEPLOYMENTS_WINDOW_DAYS, not to the project's birth: two requests per merge request add up.
- Incidents: GitLab's own incidents (`issue_type=incident`) and issues carrying one of the connection's incident
  labels (https://docs.gitlab.com/api/issues/#list-project-issues ; `labels` means all of them, so one listing
  per label); opened = created, resolved = closed.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

from hyperpage.insights.models import Incident
from hyperpage.tools import insights_store
from hyperpage.tools.base import (
    DEPLOYMENTS,
    INCIDENTS,
    PULL_REQUEST_DETAILS,
    JobContext,
    JobResult,
    Runner,
    names,
    parse_time,
)
from hyperpage.tools.errors import NotFound
from hyperpage.tools.gitlab.deployments import sync_deployments
from hyperpage.tools.gitlab.pager import pages, updated_window

# what GitLab's revert button writes into the merge request (and git revert into the commit)
REVERTS = re.compile(r"This reverts merge request !(\d+)")
REVERTS_COMMIT = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
# system notes (https://docs.gitlab.com/user/project/merge_requests/drafts/): the wording since GitLab 14, and
# the Work In Progress one before it
_READY = ("marked this merge request as **ready**", "unmarked as a **work in progress**")
_REVIEW_NOTES = {"approved this merge request": "APPROVED", "requested changes": "CHANGES_REQUESTED"}


def is_bot(user: dict[str, Any]) -> bool:
    """GitLab marks bot users (`bot`); project and group access tokens act as users named `project_N_bot_...`
    or `group_N_bot_...`, and the notes API's author object may not carry `bot` at all."""
    username = str(user.get("username") or "")
    return bool(user.get("bot")) or username.endswith("_bot") or "_bot_" in username


async def sync_merge_request_details(ctx: JobContext) -> JobResult:
    project = ctx.repository_external_id
    mark = None if ctx.full else ctx.high_water_mark
    if mark is not None and not await insights_store.changed_since(ctx, mark, merged=True):
        return ctx.finish()  # the merge-request sync saw no merged one change: ask nothing
    # from the mark itself, not the day (no conditional request to keep stable): each changed merge request
    # costs its two requests once; updated_after is strictly after, so one second back keeps the boundary one
    start = mark or ctx.now - timedelta(days=ctx.settings.sync_deployments_window_days)
    params = {"order_by": "updated_at", "sort": "asc", "scope": "all", "state": "merged"}
    params["updated_after"] = (start - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    waiting: list[datetime] = []  # updated_at of merge requests whose row is not stored yet
    async for page in pages(ctx, f"/projects/{project}/merge_requests", params, conditional=False):
        items = [i for i in page if isinstance(i, dict) and "iid" in i]
        stored = await insights_store.stored_pull_requests(ctx, [str(i.get("id")) for i in items])
        ready = [i for i in items if str(i.get("id")) in stored]
        waiting += [t for i in items if str(i.get("id")) not in stored and (t := parse_time(i.get("updated_at")))]
        # details stored after the merge request's last update are still true (a full resync, the mark's
        # boundary): not read again
        synced = await insights_store.details_synced(ctx, [stored[str(i["id"])][0] for i in ready])
        stale = [i for i in ready if _stale(synced.get(stored[str(i["id"])][0]), i)]
        fetched = await asyncio.gather(*(_commits_and_notes(ctx, item) for item in stale))
        mapped = []
        for item, (commits, notes) in zip(stale, fetched, strict=True):
            if commits is None:  # gone meanwhile
                continue
            pull_request_id = stored[str(item["id"])][0]
            mapped += ctx.map(
                details, [item], pull_request_id=pull_request_id, commits=commits, notes=notes, now=ctx.now
            )
        await insights_store.store_details(ctx, mapped)
        for item in ready:
            ctx.advance(parse_time(item.get("updated_at")))
    ctx.result.etag = ctx.result.last_modified = None  # the listing's window moves: never conditional
    result = ctx.finish()
    if waiting:  # read those again once the merge-request sync stored them
        result.high_water_mark = min([*waiting, *([result.high_water_mark] if result.high_water_mark else [])])
    return result


# GitLab's clock and ours may differ by a little: an update stamped just before our last read is read again
CLOCK_SKEW = timedelta(minutes=5)


def _stale(synced: datetime | None, item: dict[str, Any]) -> bool:
    updated = parse_time(item.get("updated_at"))
    return synced is None or updated is None or updated >= synced - CLOCK_SKEW


async def _commits_and_notes(ctx: JobContext, item: dict[str, Any]) -> tuple[list[Any] | None, list[Any]]:
    base = f"/projects/{ctx.repository_external_id}/merge_requests/{item['iid']}"
    try:
        commits = [c async for page in pages(ctx, f"{base}/commits", {}, conditional=False) for c in page]
        notes = [
            n
            async for page in pages(ctx, f"{base}/notes", {"sort": "asc", "order_by": "created_at"}, conditional=False)
            for n in page
        ]
    except NotFound:
        return None, []
    return commits, notes


def details(
    item: dict[str, Any], *, pull_request_id: int, commits: list[Any], notes: list[Any], now: datetime
) -> dict[str, Any]:
    """One merged merge request with its commits and notes -> its timeline row and review rows."""
    author = (item.get("author") or {}).get("username")
    reviews, ready = [], []
    for note in notes:
        if not isinstance(note, dict) or not (at := parse_time(note.get("created_at"))):
            continue
        body, user = str(note.get("body") or ""), note.get("author") or {}
        if note.get("system"):
            lowered = body.strip().lower()
            if lowered in _READY:
                ready.append(at)
            state = _REVIEW_NOTES.get(lowered)
        else:
            state = "COMMENTED"  # a person's comment is a review in the "first review" sense, as on GitHub
        if state is None:
            continue
        reviews.append(
            {
                "pull_request_id": pull_request_id,
                "external_id": f"note:{note['id']}",
                "reviewer": user.get("username"),
                "reviewer_is_bot": is_bot(user),
                "state": state,
                "submitted_at": at,
            }
        )
    first = insights_store.first_review(reviews, author)
    authored = [
        t for c in commits if isinstance(c, dict) and (t := parse_time(c.get("authored_date") or c.get("created_at")))
    ]
    description = str(item.get("description") or "")
    reverted, reverted_commit = REVERTS.search(description), REVERTS_COMMIT.search(description)
    timeline = {
        "pull_request_id": pull_request_id,
        "first_commit_at": min(authored, default=None),
        # still a draft: not ready yet; else the last draft -> ready, or opened ready
        "ready_for_review_at": None
        if item.get("draft") or item.get("work_in_progress")
        else max(ready, default=None) or parse_time(item["created_at"]),
        "first_review_at": first["submitted_at"] if first else None,
        "first_reviewer": first["reviewer"] if first else None,
        # a fast-forward merge without squash puts the head commit itself on the target branch
        "merge_commit_sha": item.get("merge_commit_sha") or item.get("squash_commit_sha") or item.get("sha"),
        "reverts_number": int(reverted.group(1)) if reverted else None,
        "reverts_sha": reverted_commit.group(1) if reverted_commit else None,
        "synced_at": now,
    }
    return {"timeline": timeline, "reviews": reviews}


async def sync_incidents(ctx: JobContext) -> JobResult:
    path = f"/projects/{ctx.repository_external_id}/issues"
    filters: list[dict[str, Any]] = [{"issue_type": "incident"}]
    filters += [{"labels": label} for label in ctx.spec.incident_labels]
    for extra in filters:
        async for page in pages(ctx, path, {**updated_window(ctx), "scope": "all", **extra}, conditional=False):
            items = [i for i in page if isinstance(i, dict)]
            await ctx.write(Incident.__table__, ctx.map_scoped(incident, items, Incident.__table__))
            for item in items:
                ctx.advance(parse_time(item.get("updated_at")))
    ctx.result.etag = ctx.result.last_modified = None
    return ctx.finish()


def incident(item: dict[str, Any], *, connection_id: int, repository_id: int | None, now: datetime) -> dict[str, Any]:
    return insights_store.incident_row(
        connection_id=connection_id,
        repository_id=repository_id,
        now=now,
        external_id=str(item["id"]),
        key=(item.get("references") or {}).get("full") or f"#{item['iid']}",
        title=item.get("title") or "",
        labels=names(item.get("labels"), "name"),
        web_url=item.get("web_url"),
        opened_at=parse_time(item["created_at"]),
        resolved_at=parse_time(item.get("closed_at")) if item.get("state") == "closed" else None,
    )


RUNNERS: dict[str, Runner] = {
    PULL_REQUEST_DETAILS: sync_merge_request_details,
    DEPLOYMENTS: sync_deployments,
    INCIDENTS: sync_incidents,
}
