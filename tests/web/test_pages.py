"""Server-rendered pages without a browser: setup page, overview panels, filters in the URL, theme cookie."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f


async def test_without_tools_the_overview_is_the_setup_page(client) -> None:
    resp = await client.get("/")
    assert resp.status_code == 200
    for variable in (
        "ENABLE_GITHUB",
        "GITHUB_TOKEN",
        "ENABLE_GITLAB",
        "GITLAB_TOKEN",
        "JIRA_WEB_URL",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
    ):
        assert f"<code>{variable}</code>" in resp.text
    assert "Connect a tool" in resp.text


async def _seed(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        repo = await f.add_repository(s, connection=gh, full_name="acme/web")
        await f.add_pull_request(
            s, connection=gh, repository=repo, title="Fix <script> escaping", requested_reviewers=["carol"]
        )
        await f.add_pull_request(s, connection=gh, repository=repo, title="Other change")
        await f.add_pipeline(s, connection=gh, repository=repo, result="FAILURE", name="Build")
        await f.add_pipeline(s, connection=gh, repository=repo, result="SUCCESS", name="Lint")
        await f.add_issue(s, connection=gh, repository=repo, key="#9", title="Broken docs")
        await f.add_rate_limit_sample(s, connection=gh, resource="core", remaining=500, observed_at=now)
        await f.add_sync_state(
            s,
            connection=gh,
            resource="pull_requests",
            last_success_at=now - timedelta(hours=1),
            last_error="GitHub answered 401: bad credentials",
            last_error_at=now,
        )


async def test_overview_renders_panels_filters_and_freshness(client, db_url) -> None:
    await _seed(db_url)
    page = (await client.get("/")).text
    for title in ("Code Reviews", "CI/CD", "Tickets", "Rate limits"):
        assert title in page
    assert "Fix &lt;script&gt; escaping" in page  # escaped, never markup
    assert "data-stale" in page and "GitHub answered 401: bad credentials" in page
    assert "90.0 % used" in page and "Usage, last 24 hours" in page
    filtered = (await client.get("/", params={"rr": "carol", "pf": "1"})).text
    assert "Other change" not in filtered and "Fix &lt;script&gt;" in filtered
    assert "Lint" not in filtered and "Build" in filtered
    searched = (await client.get("/", params={"q": "docs"})).text
    assert "Broken docs" in searched and "Other change" not in searched
    assert "Fix &lt;script&gt;" not in (await client.get("/", params={"tool": "jira"})).text
    assert "Fix &lt;script&gt;" in (await client.get("/", params={"tool": "github"})).text
    bad = await client.get("/", params={"rs": "PENDING"})
    assert bad.status_code == 400 and "rs" in bad.text


async def test_theme_is_remembered_in_a_cookie_and_redirects_stay_local(client, db_url) -> None:
    await _seed(db_url)
    resp = await client.post("/ui/theme", data={"theme": "dark", "next": "/?q=x"})
    assert resp.status_code == 303 and resp.headers["location"] == "/?q=x"
    assert "HttpOnly" in resp.headers["set-cookie"] and "SameSite=lax" in resp.headers["set-cookie"]
    page = await client.get("/")
    assert 'data-theme="dark"' in page.text
    away = await client.post("/ui/theme", data={"theme": "light", "next": "//evil.example/"})
    assert away.headers["location"] == "/"


def test_sync_errors_are_explained_in_plain_words() -> None:
    from hyperpage.web.plain_errors import plain_error

    assert "refused the token" in plain_error("401: Bad credentials")
    assert "permission" in plain_error("403: Resource not accessible by integration")
    assert "Rate limited" in plain_error("429: API rate limit exceeded")
    assert "HTTP 502" in plain_error("502: Bad Gateway")
    assert "did not answer in time" in plain_error("ReadTimeout after 3 retries")
    assert "worker log" in plain_error("internal error: KeyError: 'id'")
    assert plain_error("something unheard of") is None and plain_error(None) is None


async def test_overview_shows_the_plain_sentence_and_the_upstream_words(client, db_url) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        await f.add_sync_state(s, connection=gh, last_error="401: Bad credentials", last_error_at=f.now())
    page = (await client.get("/")).text
    assert "The upstream refused the token" in page and "upstream said: 401: Bad credentials" in page
