"""Every response the fake GitHub serves, held to GitHub's published OpenAPI description.

Each route of demo/github_api.py is driven (every page of every list, single items, conditional 304s, the
documented error statuses) and each response checked by tests/demo/github_openapi.py: status documented
for the operation, body valid against its schema, documented headers valid.
"""

from __future__ import annotations

import httpx

from hyperpage.demo import FakeUpstream
from hyperpage.demo.world import Repo
from tests.demo.conftest import GH
from tests.demo.github_openapi import Tally

PREFIX = "/github"


async def _all_pages(fake: httpx.AsyncClient, tally: Tally, url: str, **params: object) -> list[httpx.Response]:
    headers = {**GH, "X-GitHub-Api-Version": tally.version} if tally.version else GH
    pages = [await fake.get(url, headers=headers, params=params)]
    while (nxt := pages[-1].links.get("next")) is not None:
        assert len(pages) < 50, "pagination does not terminate"
        if "/repos/" in url:  # GitHub's repository lists link by id: /repositories/{id}/...
            assert "/repositories/" in nxt["url"], nxt["url"]
        pages.append(await fake.get(nxt["url"], headers=headers))
    for page in pages:
        tally.check(page, PREFIX)
    return pages


async def _deployments(fake: httpx.AsyncClient, tally: Tally, upstream: FakeUpstream, repo: Repo) -> None:
    """Deployments (paged, filtered by environment), their statuses, one deployment, and the compare between
    consecutive deployments of an environment (paged and unpaged), plus their 404s."""
    name = repo.full_name
    pages = await _all_pages(fake, tally, f"{PREFIX}/repos/{name}/deployments", per_page=20)
    items = [d for p in pages for d in p.json()]
    assert len(items) == sum(1 for d in upstream.world.deployments if d.repo is repo) > 0
    production = [
        d
        for p in await _all_pages(fake, tally, f"{PREFIX}/repos/{name}/deployments", environment="production")
        for d in p.json()
    ]
    assert production and all(d["production_environment"] for d in production)
    for deployment in items[:5]:
        await _all_pages(fake, tally, f"{PREFIX}/repos/{name}/deployments/{deployment['id']}/statuses")
        tally.check(await fake.get(f"{PREFIX}/repos/{name}/deployments/{deployment['id']}", headers=GH), PREFIX)
    newer, older = production[0]["sha"], production[-1]["sha"]
    await _all_pages(fake, tally, f"{PREFIX}/repos/{name}/compare/{older}...{newer}", per_page=5)
    tally.check(await fake.get(f"{PREFIX}/repos/{name}/compare/{older}...{newer}", headers=GH), PREFIX)
    tally.check(await fake.get(f"{PREFIX}/repos/{name}/compare/{newer}...{older}", headers=GH), PREFIX)  # behind
    tally.check(await fake.get(f"{PREFIX}/repos/{name}/compare/{older}...{'0' * 40}", headers=GH), PREFIX)  # 404
    tally.check(await fake.get(f"{PREFIX}/repos/{name}/deployments/1/statuses", headers=GH), PREFIX)  # 404


async def _pull_details(fake: httpx.AsyncClient, tally: Tally, upstream: FakeUpstream, repo: Repo) -> None:
    """A pull request's commits, reviews and timeline (the REST way to the insights' details): those with a
    bot's review or draft events among them, and a 404."""
    pulls = [p for p in upstream.world.pulls if p.repo is repo]
    chosen = [p for p in pulls if any(r.bot_login for r in p.reviews)][:2] + [p for p in pulls if p.timeline][:2]
    assert chosen
    for pr in chosen:
        for path in (f"pulls/{pr.number}/commits", f"pulls/{pr.number}/reviews", f"issues/{pr.number}/timeline"):
            pages = await _all_pages(fake, tally, f"{PREFIX}/repos/{repo.full_name}/{path}")
            assert (
                sum(len(p.json()) for p in pages)
                == {
                    "commits": pr.commits,
                    "reviews": len(pr.reviews),
                    "timeline": len(pr.timeline),
                }[path.rsplit("/", 1)[1]]
            )
    tally.check(await fake.get(f"{PREFIX}/repos/{repo.full_name}/issues/999999/timeline", headers=GH), PREFIX)


async def test_every_fake_github_response_matches_the_published_schema(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    tally = Tally()
    world = upstream.world
    tally.check(await fake.get(f"{PREFIX}/user", headers=GH), PREFIX)
    tally.check(await fake.get(f"{PREFIX}/user"), PREFIX)  # 401 Requires authentication
    await _all_pages(fake, tally, f"{PREFIX}/user/repos", per_page=2)
    for org in world.orgs:
        await _all_pages(fake, tally, f"{PREFIX}/orgs/{org.login}/repos", per_page=100)
    for repo in world.repos:
        name = repo.full_name
        first = await fake.get(f"{PREFIX}/repos/{name}", headers=GH)
        tally.check(first, PREFIX)
        # GitHub answers a matching If-None-Match with 304 and no body on every GET (not listed per operation
        # in the description, so not schema-checked; the status and the empty body are checked here).
        again = await fake.get(f"{PREFIX}/repos/{name}", headers={**GH, "If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        for path, params in (
            ("pulls", {"state": "all", "sort": "updated", "direction": "desc"}),
            ("issues", {"state": "all", "sort": "updated", "direction": "asc"}),
            ("actions/runs", {}),
        ):
            pages = await _all_pages(fake, tally, f"{PREFIX}/repos/{name}/{path}", per_page=50, **params)
            items = [i for p in pages for i in (p.json()["workflow_runs"] if path == "actions/runs" else p.json())]
            if path == "pulls":
                for pr in items:
                    tally.check(await fake.get(f"{PREFIX}/repos/{name}/pulls/{pr['number']}", headers=GH), PREFIX)
            if path == "issues":
                for issue in items:
                    tally.check(await fake.get(f"{PREFIX}/repos/{name}/issues/{issue['number']}", headers=GH), PREFIX)
        await _deployments(fake, tally, upstream, repo)
        await _pull_details(fake, tally, upstream, repo)
        tally.check(await fake.get(f"{PREFIX}/repos/{name}/pulls/999999", headers=GH), PREFIX)  # 404
        tally.check(await fake.get(f"{PREFIX}/repos/{name}/issues/999999", headers=GH), PREFIX)  # 404
    tally.check(await fake.get(f"{PREFIX}/repos/nobody/nothing", headers=GH), PREFIX)  # 404
    owner = world.repos[0].owner.login
    tally.check(
        await fake.get(f"{PREFIX}/search/issues", headers=GH, params={"q": f"is:pr org:{owner} created:>=2026-01-01"}),
        PREFIX,
    )
    tally.check(await fake.get(f"{PREFIX}/rate_limit", headers=GH), PREFIX)
    # A renamed repository: 301 to /repositories/{id}, documented for GET /repos/{owner}/{repo}.
    [(old, moved)] = list(world.renamed.items())
    redirect = await fake.get(f"{PREFIX}/repos/{old}", headers=GH)
    assert redirect.status_code == 301 and redirect.headers["location"].endswith(f"/repositories/{moved.id}")
    tally.check(redirect, PREFIX)
    tally.check(await fake.get(redirect.headers["location"], headers=GH), PREFIX)
    # API version 2026-03-10: no merge_commit_sha, no singular assignee, as its breaking changes say.
    newer = Tally(version="2026-03-10")
    name = world.repos[0].full_name
    for path in ("pulls", "issues"):
        for page in await _all_pages(fake, newer, f"{PREFIX}/repos/{name}/{path}", per_page=100, state="all"):
            assert not any({"merge_commit_sha", "assignee"} & set(item) for item in page.json())
    assert not newer.errors, "\n".join(newer.distinct_errors()[:60])
    tally.checked.update({(f"{t} (2026-03-10)", s): n for (t, s), n in newer.checked.items()})
    assert not tally.errors, f"{len(tally.errors)} mismatches:\n" + "\n".join(tally.distinct_errors()[:60])
    assert tally.total >= 100
    print(f"\nfake GitHub responses validated against the OpenAPI description: {tally.total}")
