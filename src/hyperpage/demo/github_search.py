"""GitHub issue search (`GET /search/issues`): the qualifier subset a portal sync uses, and date ranges."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request

from hyperpage.demo.httpkit import HttpProblem, Page, Reply, link_header, page_of
from hyperpage.demo.world import GhIssue, PullRequest

if TYPE_CHECKING:
    from hyperpage.demo.github_api import GitHubService
    from hyperpage.demo.service import Identity

# GitHub serves at most the first 1000 results of any search, whatever total_count says.
SEARCH_CAP = 1000
RANGE = re.compile(r"^(>=|<=|>|<)?(.+)$")


def _bounds(raw: str) -> tuple[datetime, datetime]:
    """A date or date-time qualifier value as [start, end): a bare date covers its whole day."""
    try:
        if len(raw) == 10:
            start = datetime.fromisoformat(raw).replace(tzinfo=UTC)
            return start, start + timedelta(days=1)
        start = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise HttpProblem(422, "Validation Failed") from None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return start, start + timedelta(seconds=1)


def created_filter(expr: str, moment: datetime) -> bool:
    """GitHub's date syntax: >=D, >D, <=D, <D, D..D (either side may be *), or D."""
    if ".." in expr:
        low, high = expr.split("..", 1)
        return (low == "*" or moment >= _bounds(low)[0]) and (high == "*" or moment < _bounds(high)[1])
    match = RANGE.match(expr)
    if match is None:
        raise HttpProblem(422, "Validation Failed")
    op, value = match.groups()
    start, end = _bounds(value)
    return {
        ">=": moment >= start,
        ">": moment >= end,
        "<=": moment < end,
        "<": moment < start,
        None: start <= moment < end,
    }[op]


def search_issues(svc: GitHubService, request: Request, ident: Identity) -> Reply:
    world = svc.up.world
    q = request.query_params.get("q")
    if not q:
        raise HttpProblem(422, "Validation Failed")
    me = ident.person.login

    def login(index: int) -> str:
        return world.people[index].login

    every: tuple[PullRequest | GhIssue, ...] = (*world.pulls, *world.gh_issues)
    items: list[GhIssue | PullRequest] = [
        i for i in every if not i.repo.private or ident.person.index in i.repo.members
    ]
    words: list[str] = []
    for term in q.split():
        key, sep, value = term.partition(":")
        if not sep:
            words.append(term.lower())
            continue
        value = me if value == "@me" else value
        key = key.lower()
        if key in ("is", "type") and value in ("pr", "pull-request"):
            items = [i for i in items if isinstance(i, PullRequest)]
        elif key in ("is", "type") and value == "issue":
            items = [i for i in items if isinstance(i, GhIssue)]
        elif key in ("is", "state") and value in ("open", "closed"):
            items = [i for i in items if i.state == value]
        elif key == "is" and value == "merged":
            items = [i for i in items if isinstance(i, PullRequest) and i.merged_at is not None]
        elif key == "is" and value == "draft":
            items = [i for i in items if isinstance(i, PullRequest) and i.draft]
        elif key == "author":
            items = [i for i in items if login(i.user) == value]
        elif key == "assignee":
            items = [i for i in items if value in {login(a) for a in i.assignees}]
        elif key == "review-requested":
            items = [
                i for i in items if isinstance(i, PullRequest) and value in {login(r) for r in i.requested_reviewers}
            ]
        elif key in ("involves", "mentions", "commenter"):
            # Real GitHub: author, assignee, mentioned or commenter. Comments are not modelled, so
            # requested reviewers stand in for the commenters a review produces.
            items = [
                i
                for i in items
                if value
                in {
                    login(i.user),
                    *(login(a) for a in i.assignees),
                    *(login(r) for r in getattr(i, "requested_reviewers", [])),
                }
            ]
        elif key == "repo":
            items = [i for i in items if i.repo.full_name.lower() == value.lower()]
        elif key in ("org", "user"):
            items = [i for i in items if i.repo.owner.login == value.lower()]
        elif key == "label":
            items = [i for i in items if value.strip('"') in i.labels]
        elif key in ("updated", "created", "closed"):
            attr = f"{key}_at"
            items = [i for i in items if getattr(i, attr) is not None and created_filter(value, getattr(i, attr))]
        # Other qualifiers (in:title, archived:false, sort:...) do not narrow this fake's data.
    for word in words:
        items = [i for i in items if word in i.title.lower() or word in i.body.lower()]
    sort = request.query_params.get("sort")
    if sort not in (None, "", "created", "updated", "comments"):
        raise HttpProblem(422, "Validation Failed")
    key_attr = {"created": "created_at", "comments": "comments"}.get(sort or "", "updated_at")
    items.sort(key=lambda i: (getattr(i, key_attr), i.id), reverse=request.query_params.get("order", "desc") != "asc")
    reachable = items[:SEARCH_CAP]
    page = page_of(request, len(reachable), 30)
    if (page.number - 1) * page.per_page >= SEARCH_CAP:
        raise HttpProblem(422, "Only the first 1000 search results are available")
    shapes = svc.shapes(request)
    out = [{**shapes.issue(i), "score": 1.0} for i in page.slice(reachable)]
    link = link_header(request, Page(page.number, page.per_page, len(reachable)), ("prev", "next", "last", "first"))
    # `search_type` is required by GitHub's current description (lexical, semantic or hybrid).
    body = {"total_count": len(items), "incomplete_results": False, "items": out, "search_type": "lexical"}
    return Reply(body, headers={"link": link} if link else {})
