"""Fake GitHub REST for one pull request's commits, reviews and timeline: what the REST way to the insights'
pull-request details costs (3 requests per pull request), served so bench/bench_graphql_quota.py can measure
it against GraphQL for real.

https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request ,
https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request ,
https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue (the draft/ready events the world
models; a real timeline carries comments, labels and more).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from hyperpage.demo.github_deploy import DeployShapes
from hyperpage.demo.github_shapes import GitHubShapes, node_id
from hyperpage.demo.httpkit import HttpProblem, Reply, iso_z
from hyperpage.demo.world import PullRequest, Review

if TYPE_CHECKING:
    from hyperpage.demo.github_api import GitHubService
    from hyperpage.demo.service import Identity

EVENTS = {"ReadyForReviewEvent": "ready_for_review", "ConvertToDraftEvent": "convert_to_draft"}


def review(s: GitHubShapes, pr: PullRequest, r: Review) -> dict[str, Any]:
    html = f"{s.web}/{pr.repo.full_name}/pull/{pr.number}"
    user = s.user(r.user) if r.user is not None else _bot(s, r.bot_login or "bot")
    return {
        "id": r.id,
        "node_id": node_id("PRR_", r.id),
        "user": user,
        "body": "",
        "state": r.state,
        "html_url": f"{html}#pullrequestreview-{r.id}",
        "pull_request_url": f"{s.api}/repos/{pr.repo.full_name}/pulls/{pr.number}",
        "_links": {"html": {"href": f"{html}#pullrequestreview-{r.id}"}, "pull_request": {"href": html}},
        "submitted_at": iso_z(r.submitted_at),
        "commit_id": pr.head_sha,
        "author_association": "MEMBER" if r.user is not None else "NONE",
    }


def _bot(s: GitHubShapes, login: str) -> dict[str, Any]:
    return {**s.user(0), "login": f"{login}[bot]", "id": 41898282, "type": "Bot", "node_id": node_id("BOT_", 41898282)}


def event(s: GitHubShapes, pr: PullRequest, index: int, kind: str, at: Any) -> dict[str, Any]:
    ident = pr.id * 100 + index
    return {
        "id": ident,
        "node_id": node_id("RFRE_", ident),
        "url": f"{s.api}/repos/{pr.repo.full_name}/issues/events/{ident}",
        "actor": s.user(pr.user),
        "event": EVENTS[kind],
        "commit_id": None,
        "commit_url": None,
        "created_at": iso_z(at),
        "performed_via_github_app": None,
    }


def routes(svc: GitHubService) -> list[BaseRoute]:
    def find(request: Request) -> PullRequest:
        repo = svc.find_repo(request)
        number = int(request.path_params["number"])
        pr = next((p for p in svc.up.world.pulls if p.repo is repo and p.number == number), None)
        if pr is None:
            raise HttpProblem(404, "Not Found")
        return pr

    def commits(request: Request, ident: Identity) -> Reply:
        pr = find(request)
        shapes = DeployShapes(svc.shapes(request))
        listed = pr.commit_list()
        parents = {c.sha: (listed[i - 1].sha if i else None) for i, c in enumerate(listed)}
        return svc.listing(request, listed, lambda c: shapes.commit(pr.repo, c, parents[c.sha]))

    def reviews(request: Request, ident: Identity) -> Reply:
        pr = find(request)
        shapes = svc.shapes(request)
        return svc.listing(request, pr.reviews, lambda r: review(shapes, pr, r))

    def timeline(request: Request, ident: Identity) -> Reply:
        pr = find(request)
        shapes = svc.shapes(request)
        items = [event(shapes, pr, i, kind, at) for i, (kind, at) in enumerate(pr.timeline)]
        return svc.listing(request, items, lambda e: e)

    return svc.repo_routes(
        {
            "/pulls/{number:int}/commits": commits,
            "/pulls/{number:int}/reviews": reviews,
            "/issues/{number:int}/timeline": timeline,
        }
    )
