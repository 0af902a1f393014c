"""The fake GitHub speaks the real wire format: Link pagination, ETag/304 without quota, quota headers."""

from __future__ import annotations

import httpx

from hyperpage.demo import FakeUpstream
from tests.demo.conftest import GH, Clock, follow


async def test_250_pull_requests_come_in_three_linked_pages_each_exactly_once(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    repo = upstream.world.repos[0].full_name
    pages = await follow(
        fake, f"/github/repos/{repo}/pulls", GH, state="all", sort="updated", direction="desc", per_page=100
    )
    assert [len(p.json()) for p in pages] == [100, 100, 50]
    first, middle, last = (p.links for p in pages)
    assert set(first) == {"next", "last"} and set(middle) == {"prev", "next", "last", "first"}
    assert set(last) == {"prev", "first"}
    numbers = [pr["number"] for page in pages for pr in page.json()]
    assert len(numbers) == len(set(numbers)) == 250
    stamps = [pr["updated_at"] for page in pages for pr in page.json()]
    assert stamps == sorted(stamps, reverse=True)
    item = pages[0].json()[0]
    assert {"requested_reviewers", "draft", "merged_at", "head", "base", "labels", "html_url"} <= set(item)
    assert item["head"]["ref"] and item["user"]["login"]
    assert "mergeable_state" not in item  # only the single-PR endpoint has it
    single = await fake.get(f"/github/repos/{repo}/pulls/{item['number']}", headers=GH)
    assert single.json()["mergeable_state"] and "merged" in single.json()


async def test_per_page_is_capped_at_100(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[0].full_name
    response = await fake.get(f"/github/repos/{repo}/pulls", headers=GH, params={"state": "all", "per_page": 500})
    assert len(response.json()) == 100


async def test_304_on_if_none_match_costs_no_quota(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    url = f"/github/repos/{upstream.world.repos[1].full_name}/pulls"
    first = await fake.get(url, headers=GH, params={"state": "all"})
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["last-modified"]
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = await fake.get(url, headers={**GH, "If-None-Match": etag}, params={"state": "all"})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    by_date = await fake.get(
        url, headers={**GH, "If-Modified-Since": first.headers["last-modified"]}, params={"state": "all"}
    )
    assert by_date.status_code == 304
    assert upstream.quota_of("github", GH["Authorization"].split()[1])["remaining"] == remaining
    # A change makes the ETag stale: the next conditional request gets 200 and pays for it.
    pr = next(p for p in upstream.world.pulls if p.repo is upstream.world.repos[1])
    upstream.mutate("github.update_pr", repo=pr.repo.full_name, number=pr.number, title="Retitled by the test")
    changed = await fake.get(url, headers={**GH, "If-None-Match": etag}, params={"state": "all"})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert int(changed.headers["x-ratelimit-remaining"]) == remaining - 1
    assert "Retitled by the test" in {p["title"] for p in changed.json()}


async def test_quota_counts_down_and_resets_with_the_window(
    fake: httpx.AsyncClient, upstream: FakeUpstream, clock: Clock
) -> None:
    seen = [int((await fake.get("/github/user", headers=GH)).headers["x-ratelimit-remaining"]) for _ in range(3)]
    assert seen == [4999, 4998, 4997]
    response = await fake.get("/github/user", headers=GH)
    assert response.headers["x-ratelimit-used"] == "4" and response.headers["x-ratelimit-resource"] == "core"
    reset = int(response.headers["x-ratelimit-reset"])
    assert reset == int(clock.now) + 3600
    clock.now = reset + 1
    assert (await fake.get("/github/user", headers=GH)).headers["x-ratelimit-remaining"] == "4999"


async def test_exhausted_core_quota_is_a_403_with_remaining_zero(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.set_quota("github", GH["Authorization"].split()[1], 0)
    response = await fake.get("/github/user", headers=GH)
    assert response.status_code == 403
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.json()["message"].startswith("API rate limit exceeded")
    # GET /rate_limit is free and still answers.
    limits = await fake.get("/github/rate_limit", headers=GH)
    assert limits.status_code == 200 and limits.json()["resources"]["core"]["remaining"] == 0
    assert set(limits.json()["resources"]) >= {"core", "search", "graphql"}


async def test_issue_listing_includes_pull_requests_marked_as_such(
    fake: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    repo = upstream.world.repos[1]
    pages = await follow(fake, f"/github/repos/{repo.full_name}/issues", GH, state="all", per_page=7)
    items = [i for p in pages for i in p.json()]
    prs = [i for i in items if "pull_request" in i]
    issues = [i for i in items if "pull_request" not in i]
    assert len(prs) == sum(1 for p in upstream.world.pulls if p.repo is repo)
    assert len(issues) == sum(1 for i in upstream.world.gh_issues if i.repo is repo)
    assert all(set(p["pull_request"]) >= {"url", "html_url", "merged_at"} for p in prs)
    since = await fake.get(
        f"/github/repos/{repo.full_name}/issues", headers=GH, params={"state": "all", "since": "2026-10-30T00:00:00Z"}
    )
    assert all(i["updated_at"] >= "2026-10-30T00:00:00Z" for i in since.json())


async def test_workflow_runs_shape_and_created_filter(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    repo = upstream.world.repos[0].full_name
    body = (await fake.get(f"/github/repos/{repo}/actions/runs", headers=GH, params={"per_page": 100})).json()
    assert body["total_count"] == 12 and len(body["workflow_runs"]) == 12
    statuses = {r["status"] for r in body["workflow_runs"]}
    assert {"queued", "in_progress", "completed"} <= statuses
    for run in body["workflow_runs"]:
        assert (run["conclusion"] is None) == (run["status"] != "completed")
        assert {"run_started_at", "updated_at", "head_branch", "head_sha", "event", "name", "html_url"} <= set(run)
    recent = (
        await fake.get(f"/github/repos/{repo}/actions/runs", headers=GH, params={"created": ">=2026-10-25"})
    ).json()
    assert 0 < recent["total_count"] < body["total_count"]


async def test_search_issues_qualifiers_and_search_quota(fake: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    me = upstream.world.people[0].login
    response = await fake.get(
        "/github/search/issues", headers=GH, params={"q": f"is:pr involves:{me} updated:>=2026-10-01", "per_page": 100}
    )
    body = response.json()
    assert set(body) == {"total_count", "incomplete_results", "items", "search_type"} and body["total_count"] > 0
    assert all("pull_request" in i for i in body["items"])
    assert response.headers["x-ratelimit-resource"] == "search" and response.headers["x-ratelimit-limit"] == "30"
    issues = (await fake.get("/github/search/issues", headers=GH, params={"q": "is:issue is:open"})).json()
    assert all("pull_request" not in i and i["state"] == "open" for i in issues["items"])
    missing = await fake.get("/github/search/issues", headers=GH)
    assert missing.status_code == 422


async def test_bad_and_missing_credentials_are_401(fake: httpx.AsyncClient) -> None:
    bad = await fake.get("/github/user", headers={"Authorization": "token not-a-real-token"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert bad.headers["x-ratelimit-limit"] == "60"
    none = await fake.get("/github/user")
    assert none.status_code == 401 and none.json()["message"] == "Requires authentication"
    token_scheme = await fake.get(
        "/github/user", headers={"Authorization": GH["Authorization"].replace("Bearer", "token")}
    )
    assert token_scheme.status_code == 200
