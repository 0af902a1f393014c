"""ListFastPath (api/listroute.py): list routes answered without FastAPI's router, byte for byte as through it.

Two apps on the same database, one built without the fast path, get the same raw requests (good and bad query
strings, revalidation, a stale cursor); status, headers and body must match exactly. tests/api/test_list_golden.py
holds both to the bytes recorded before the rewrite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from hyperpage.api import listroute
from hyperpage.api.listroute import ListFastPath, ListRoute
from hyperpage.main import create_app
from tests.api.test_list_golden import seed
from tests.conftest import make_settings

LIST_PATHS = ("/api/v1/reviews", "/api/v1/pipelines", "/api/v1/issues")
QUERIES = [
    b"",
    b"limit=2",
    b"limit=2&limit=3",  # the last value of a repeated name wins
    b"limit=0",
    b"limit=201",
    b"limit=x",
    b"limit=",
    b"unknown=1",
    b"unknown=1&unknown=2",
    b"q=theme+dark",
    b"q=%C3%BCn%C3%AFcode",
    b"q=%00",
    b"q=100%25_",
    b"tool=github&tool=svn",
    b"connection=2",
    b"connection=-1",
    b"updated_since=2026-11-01T12:20:00Z",
    b"updated_since=2026-11-01",
    b"sort=-created_at",
    b"sort=title",
    b"cursor=not-a-cursor",
    b"cursor=",
    b"%zz=1",
    b"limit",
]


async def _call(app: FastAPI, path: str, query: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    names = [k for k, _ in start["headers"]]
    if path in LIST_PATHS:  # every middleware still applies: request id, rate limiter
        assert b"x-request-id" in names and b"ratelimit-remaining" in names
    # a new id per request, a count that each request lowers, and seconds to the window's end, which tick on
    # a slow machine between two apps' answers
    varying = (b"x-request-id", b"ratelimit-remaining", b"ratelimit-reset")
    kept = [(k, v) for k, v in start["headers"] if k not in varying]
    return scope, (start["status"], kept, b"".join(m.get("body", b"") for m in messages[1:]))


@pytest.fixture
async def apps(db_url: str) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    await seed(db_url)
    settings = make_settings(db_url, hyperpage_api_cache_mb=0)  # every request reaches the route
    fast, routed = create_app(settings), create_app(settings)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not ListFastPath]
    async with fast.router.lifespan_context(fast), routed.router.lifespan_context(routed):
        yield fast, routed


async def test_a_list_path_goes_to_its_route_directly_once_the_router_has_named_it(apps) -> None:
    fast, _ = apps
    for path in LIST_PATHS:
        first_scope, first = await _call(fast, path, b"limit=3")
        assert "router" in first_scope  # the first request of a path is routed: that is how its route is learnt
        scope, answer = await _call(fast, path, b"limit=3")
        assert "router" not in scope
        route = scope["route"]
        assert isinstance(route, ListRoute) and route.path == path  # metrics label it by its template
        assert route is first_scope["route"]
        assert answer == first
        assert answer[0] == 200


async def test_fast_path_answers_byte_for_byte_as_the_router(apps) -> None:
    fast, routed = apps
    for path in LIST_PATHS:
        await _call(fast, path, b"")  # learn the route
        for query in QUERIES:
            scope, answer = await _call(fast, path, query)
            assert "router" not in scope
            assert answer == (await _call(routed, path, query))[1], (path, query)
    # revalidation: the ETag of the page answers 304 the same way on both
    _, page = await _call(fast, LIST_PATHS[0], b"limit=2")
    etag = dict(page[1])[b"etag"]
    for query in (b"limit=2", b"limit=3"):
        headers = [(b"if-none-match", etag)]
        assert (await _call(fast, LIST_PATHS[0], query, headers))[1] == (
            await _call(routed, LIST_PATHS[0], query, headers)
        )[1]
    # a cursor made for another sort: the app's AppError handler answers 400 on both
    _, next_page = await _call(fast, LIST_PATHS[0], b"limit=1&sort=updated_at")
    cursor = next_page[2].split(b'"next_cursor":"')[1].split(b'"')[0]
    stale = b"sort=-updated_at&cursor=" + cursor
    _, answer = await _call(fast, LIST_PATHS[0], stale)
    assert answer[0] == 400
    assert answer == (await _call(routed, LIST_PATHS[0], stale))[1]


async def test_other_requests_keep_the_routers_way(apps) -> None:
    fast, _ = apps
    await _call(fast, "/api/v1/reviews", b"")
    for path in ("/api/v1/reviews/", "/api/v1/tools", "/livez"):
        scope, _ = await _call(fast, path, b"")
        assert "router" in scope, path


async def test_a_query_string_is_validated_once_and_answers_as_the_first_time(
    apps, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, routed = apps
    parsed: list[bytes] = []
    parse = listroute.parse_query

    def counting(model: Any, fields: Any, request: Any) -> Any:
        if request.scope["app"] is fast:
            parsed.append(request.scope["query_string"])
        return parse(model, fields, request)

    path = LIST_PATHS[0]
    scope, _ = await _call(fast, path, b"")  # learn the route
    scope["route"]._parsed.clear()  # the route is the views module's: other apps' requests may have filled it
    monkeypatch.setattr(listroute, "parse_query", counting)
    for query in QUERIES:
        first = (await _call(fast, path, query))[1]
        again = (await _call(fast, path, query))[1]
        assert first == again == (await _call(routed, path, query))[1], query
        # a valid query string is validated once; a refused one (422) is refused anew every time
        assert parsed.count(query) == (2 if first[0] == 422 else 1), query


async def test_validated_query_strings_are_bounded(apps, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = apps
    monkeypatch.setattr(listroute, "MAX_PARSED", 2)
    path = LIST_PATHS[0]
    scope, _ = await _call(fast, path, b"limit=1")
    for limit in range(1, 6):
        assert (await _call(fast, path, b"limit=%d" % limit))[1][0] == 200
    assert 1 <= len(scope["route"]._parsed) <= 2  # kept, and no more than the bound
