"""GET /api/v1/reviews on SQLite and PostgreSQL: filters, search, sort, keyset pages, ETag/304, errors."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f
from tests.metrics_port import scrape_metrics


async def _seed(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gl, full_name="acme/api_server")
        await f.add_pull_request(
            s,
            connection=gh,
            repository=web,
            title="Fix login redirect",
            author="alice",
            requested_reviewers=["carol", "dave"],
            labels=["bug"],
            source_branch="fix/login",
        )
        await f.add_pull_request(
            s,
            connection=gh,
            repository=web,
            title="Add dark theme",
            author="bob",
            requested_reviewers=["carol-ext"],
            labels=["ui", "bugfix"],
            draft=True,
        )
        await f.add_pull_request(
            s,
            connection=gl,
            repository=api,
            title="Speed up queries",
            author="carol",
            state="MERGED",
            original_state="merged",
            requested_reviewers=["alice"],
        )
        await f.add_pull_request(
            s,
            connection=gl,
            repository=api,
            title="100% coverage",
            author="dave",
            state="CLOSED",
            original_state="closed",
            number=4242,
        )


async def _titles(client, **params) -> list[str]:
    resp = await client.get("/api/v1/reviews", params=params)
    assert resp.status_code == 200, resp.text
    return [item["title"] for item in resp.json()["items"]]


async def test_filters_select_exactly_the_matching_rows(client, db_url) -> None:
    await _seed(db_url)
    assert await _titles(client) == ["100% coverage", "Speed up queries", "Add dark theme", "Fix login redirect"]
    assert await _titles(client, tool="gitlab") == ["100% coverage", "Speed up queries"]
    assert await _titles(client, state="open") == ["Add dark theme", "Fix login redirect"]
    assert await _titles(client, state="MERGED") == ["Speed up queries"]
    assert await _titles(client, author="bob") == ["Add dark theme"]
    assert await _titles(client, repository="acme/api_server") == ["100% coverage", "Speed up queries"]
    assert await _titles(client, draft="true") == ["Add dark theme"]
    assert await _titles(client, tool="jira") == []
    # "needs my review": whole list elements only, so carol does not match carol-ext
    assert await _titles(client, reviewer="carol") == ["Fix login redirect"]
    assert await _titles(client, reviewer="alice") == ["Speed up queries"]
    assert await _titles(client, reviewer="car") == []
    assert await _titles(client, label="bug") == ["Fix login redirect"]
    conns = (await client.get("/api/v1/reviews", params={"tool": "gitlab"})).json()["items"]
    assert await _titles(client, connection=conns[0]["connection_id"]) == ["100% coverage", "Speed up queries"]
    newest = conns[0]["updated_at"]
    assert await _titles(client, updated_since=newest) == ["100% coverage"]


async def test_search_matches_every_term_across_fields_and_escapes_wildcards(client, db_url) -> None:
    await _seed(db_url)
    assert await _titles(client, q="LOGIN") == ["Fix login redirect"]
    assert await _titles(client, q="fix/login") == ["Fix login redirect"]  # branch
    assert await _titles(client, q="acme/web theme") == ["Add dark theme"]  # repository + title
    assert await _titles(client, q="carol") == ["Speed up queries"]  # author
    assert await _titles(client, q="!4242") == ["100% coverage"]  # key
    assert await _titles(client, q="100%") == ["100% coverage"]  # % is literal, not a wildcard
    assert await _titles(client, q="api_server") == ["100% coverage", "Speed up queries"]
    assert await _titles(client, q="api_") == ["100% coverage", "Speed up queries"]
    assert await _titles(client, q="login nothing-like-this") == []


async def test_items_carry_the_documented_fields(client, db_url) -> None:
    await _seed(db_url)
    item = (await client.get("/api/v1/reviews", params={"q": "login"})).json()["items"][0]
    assert item["tool"] == "github" and item["connection"] == "gh" and item["repository"] == "acme/web"
    assert item["key"] == f"#{item['number']}"
    assert item["requested_reviewers"] == ["carol", "dave"] and item["labels"] == ["bug"]
    assert item["updated_at"].endswith("Z") or item["updated_at"].endswith("+00:00")


async def test_sort_orders_ascending_and_by_created(client, db_url) -> None:
    await _seed(db_url)
    assert await _titles(client, sort="updated_at") == [
        "Fix login redirect",
        "Add dark theme",
        "Speed up queries",
        "100% coverage",
    ]
    assert await _titles(client, sort="-created_at") == [
        "100% coverage",
        "Speed up queries",
        "Add dark theme",
        "Fix login redirect",
    ]


async def test_pages_neither_repeat_nor_skip_rows_while_rows_are_inserted(client, db_url) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github")
        for i in range(23):  # many ties on the sort key: the id breaks them
            await f.add_pull_request(s, connection=gh, updated_at=f.BASE_TIME + timedelta(minutes=i // 4), flush=False)
    initial = {item["id"] for item in (await client.get("/api/v1/reviews", params={"limit": 200})).json()["items"]}
    assert len(initial) == 23
    for sort in ("-updated_at", "updated_at"):
        seen: list[int] = []
        cursor = None
        while True:
            params = {"limit": 5, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/reviews", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
            # concurrent writers: a row at the top of the order, and rows tied with the existing ones
            async with f.db_session(db_url) as s:
                await f.add_pull_request(s, connection=gh, updated_at=f.now())
                await f.add_pull_request(s, connection=gh, updated_at=f.BASE_TIME)
                await f.add_pull_request(s, connection=gh, updated_at=f.BASE_TIME + timedelta(minutes=5))
        assert len(seen) == len(set(seen)), f"{sort}: a row was repeated across pages"
        assert initial <= set(seen), f"{sort}: rows present before the walk were skipped"


async def test_etag_gives_304_and_changes_with_the_data(client, db_url) -> None:
    await _seed(db_url)
    resp = await client.get("/api/v1/reviews")
    etag = resp.headers["etag"]
    assert resp.headers["cache-control"] == "private, max-age=15"
    again = await client.get("/api/v1/reviews", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github")
        await f.add_pull_request(s, connection=gh, updated_at=f.now())
    changed = await client.get("/api/v1/reviews", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_bad_input_is_a_4xx_in_the_one_error_shape(client, db_url) -> None:
    cases = {
        "state=PENDING": (422, "state"),
        "tool=bitbucket": (422, "tool"),
        "limit=0": (422, "limit"),
        "limit=201": (422, "limit"),
        "cursor=%25%25not-base64": (400, "cursor"),
        "cursor=eyJ4IjoxfQ": (400, "cursor"),
        "sort=title": (422, "sort"),
        "colour=red": (422, "colour"),
        "updated_since=yesterday": (422, "updated_since"),
        "updated_since=0.5": (422, "updated_since"),
    }
    for qs, (status, word) in cases.items():
        resp = await client.get(f"/api/v1/reviews?{qs}")
        assert resp.status_code == status, (qs, resp.text)
        body = resp.json()
        assert set(body) == {"error"} and body["error"]["code"], qs
        assert word in body["error"]["message"], (qs, body)


async def test_a_cursor_from_another_sort_is_refused(client, db_url) -> None:
    await _seed(db_url)
    page = (await client.get("/api/v1/reviews", params={"limit": 1})).json()
    resp = await client.get("/api/v1/reviews", params={"limit": 1, "sort": "created_at", "cursor": page["next_cursor"]})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_cursor"


async def test_open_reviews_gauge_counts_open_reviews(client, db_url) -> None:
    await _seed(db_url)
    assert "hyperpage_open_reviews 2.0" in await scrape_metrics(client.app)
