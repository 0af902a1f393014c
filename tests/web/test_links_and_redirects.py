"""Upstream URLs become links only when they are http(s); no redirect is ever built from the Host header."""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests import factories as f

HOSTILE_URLS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "java\tscript:alert(3)",
    " javascript:alert(4)",
    "data:text/html,<script>alert(5)</script>",
    "vbscript:msgbox(6)",
    "//evil.example/7",
    "/relative/8",
)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


async def test_only_http_and_https_upstream_urls_are_rendered_as_links(client, db_url) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        for n, url in enumerate(HOSTILE_URLS):
            await f.add_pull_request(s, connection=gh, title=f"hostile review {n}", web_url=url)
            await f.add_pipeline(s, connection=gh, name=f"hostile run {n}", web_url=url)
            await f.add_issue(s, connection=gh, key=f"H-{n}", title=f"hostile issue {n}", web_url=url)
        await f.add_pull_request(s, connection=gh, title="fine review", web_url="https://example.test/pull/1")
    resp = await client.get("/?rsort=-updated_at")
    assert resp.status_code == 200
    parser = _Anchors()
    parser.feed(resp.text)
    assert "https://example.test/pull/1" in parser.hrefs
    for url in HOSTILE_URLS:
        assert url not in parser.hrefs and url.strip() not in parser.hrefs, url
    for href in parser.hrefs:  # every link is ours (a local path or fragment) or an absolute http(s) URL
        local = href.startswith(("/", "#")) and not href.startswith("//")
        assert href.startswith(("http://", "https://")) or local, href
    for kind in ("review", "run", "issue"):  # the rows are shown, their titles as plain text
        assert f"hostile {kind} " in resp.text, kind


async def test_no_route_redirects_to_the_host_header(client) -> None:
    hostile = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    paths = {"/static", "/static/", "//evil.example/", "/api/v1/reviews/", "/docs/", "/api/health/"}
    for route in client.app.routes:
        if isinstance(route, APIRoute | Route | Mount):
            path = (
                route.path.replace("{tool}", "github")
                .replace("{endpoint}", "pull-requests")
                .replace("{platform}", "github")
            )
            paths |= {path, path + "/", path.rstrip("/") or "/"}
    for path in sorted(paths):
        for method in ("GET", "POST"):
            resp = await client.request(method, path, headers=hostile)
            location = resp.headers.get("location")
            assert location is None or (location.startswith("/") and not location.startswith("//")), (path, location)
            assert "evil.example" not in (location or ""), (path, location)
    assert (await client.get("/api/v1/reviews/")).status_code == 404


async def test_the_theme_switch_only_redirects_to_local_paths(client) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok?x=1",
    ):
        resp = await client.post("/ui/theme", data={"theme": "dark", "next": target}, headers={"Host": "evil.example"})
        assert resp.status_code == 303
        location = resp.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (target, location)
        assert not any(ch.isspace() or ch == "\\" for ch in location), (target, location)
