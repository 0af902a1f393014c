"""The list endpoints' response cache, on SQLite and PostgreSQL: hits, invalidation by any writer, 304s, bypass."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from hyperpage.db.changes import NoChanges
from hyperpage.main import create_app
from hyperpage.tools.models import Connection
from tests import factories as f
from tests.conftest import make_settings
from tests.metrics_port import scrape_metrics

PATH = "/api/v1/reviews"


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("hyperpage_api_cache_requests_total", {"result": result}) or 0.0


def route_count(route: str) -> float:
    labels = {"method": "GET", "route": route, "status": "200"}
    return REGISTRY.get_sample_value("hyperpage_http_requests_total", labels) or 0.0


@asynccontextmanager
async def _app_client(db_url: str, *, trusted: bool = True, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    """`trusted`: wait until the change signal is (PostgreSQL: LISTEN has heard its probe); before, requests bypass."""
    # No in-process sync: its lease and maintenance commits would change the data version at random moments.
    app = create_app(make_settings(db_url, hyperpage_scheduler=False, **overrides))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        http.app = app  # type: ignore[attr-defined]
        for _ in range(200 if trusted and app.state.response_cache.enabled else 0):
            if app.state.data_changes.version() is not None:
                break
            await asyncio.sleep(0.05)
        yield http


async def _refused_because(http: httpx.AsyncClient) -> str:
    """Wait until the PostgreSQL listener has given up on its signal; its reason, in words."""
    changes = http.app.state.data_changes  # type: ignore[attr-defined]
    for _ in range(300):
        if changes.last_error:
            return str(changes.last_error)
        await asyncio.sleep(0.05)
    return ""


async def _assert_answered_without_cache(http: httpx.AsyncClient, titles: list[str]) -> None:
    bypasses = cache_count("bypass")
    assert await _titles(http) == titles and await _titles(http) == titles
    assert cache_count("bypass") == bypasses + 2


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _app_client(db_url) as http:
        yield http


@pytest.fixture
async def uncached_client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _app_client(db_url, hyperpage_api_cache_mb=0) as http:
        yield http


async def _seed(db_url: str, titles: list[str]) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        repo = await f.add_repository(s, connection=gh, full_name="acme/web")
        for title in titles:
            await f.add_pull_request(s, connection=gh, repository=repo, title=title)


def _outside_writer(db_url: str) -> Callable[[str], None]:
    """Writes through a plain driver connection, not SQLAlchemy: only the database's own signal can tell."""

    def write(sql: str) -> None:
        if db_url.startswith("sqlite"):
            with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
                conn.execute(sql)
        else:
            with psycopg.connect(db_url, autocommit=True) as conn:
                conn.execute(sql)

    return write


async def _titles(client: httpx.AsyncClient, **params: str) -> list[str]:
    resp = await client.get(PATH, params=params)
    assert resp.status_code == 200, resp.text
    return [item["title"] for item in resp.json()["items"]]


async def _eventually(client: httpx.AsyncClient, expected: list[str]) -> list[str]:
    # SQLite's data_version is read per request; PostgreSQL's NOTIFY arrives on its own connection a moment later
    for _ in range(100):
        titles = await _titles(client)
        if titles == expected:
            return titles
        await asyncio.sleep(0.05)
    return titles


async def test_a_repeated_page_is_served_from_the_cache_with_the_same_bytes(client, db_url) -> None:
    await _seed(db_url, ["one", "two"])
    first = await client.get(PATH, params={"limit": 1})
    hits = cache_count("hit")
    second = await client.get(PATH, params={"limit": 1})
    assert cache_count("hit") == hits + 1
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    # a hit still passes the outer layers: security headers, rate-limit headers, request id, metrics by route
    for header in ("content-security-policy", "ratelimit-remaining", "x-request-id", "cache-control"):
        assert header in second.headers
    assert second.headers["content-type"] == "application/json"
    before = route_count(PATH)
    await client.get(PATH, params={"limit": 1})
    assert route_count(PATH) == before + 1


async def test_scrapes_and_probes_between_polls_leave_the_cached_page_in_place(client, db_url) -> None:
    # Read-only sessions commit too (the scrape's gauges, the readiness check): had those counted as writes, every
    # Prometheus scrape would empty the cache of every replica.
    await _seed(db_url, ["one", "two"])
    await scrape_metrics(client.app)  # the first scrape opens the pooled connections its gauges read on
    assert (await client.get("/readyz")).status_code == 200
    assert await _titles(client) == ["two", "one"]
    hits, misses = cache_count("hit"), cache_count("miss")
    for _ in range(3):
        await scrape_metrics(client.app)
        assert (await client.get("/readyz")).status_code == 200
        assert await _titles(client) == ["two", "one"]
    assert (cache_count("hit") - hits, cache_count("miss") - misses) == (3, 0)


async def test_a_write_in_this_process_is_seen_by_the_very_next_request(client, db_url) -> None:
    await _seed(db_url, ["one"])
    assert await _titles(client) == ["one"]
    assert await _titles(client) == ["one"]
    await _seed_more(db_url, "two")
    assert await _titles(client) == ["two", "one"]


async def _seed_more(db_url: str, title: str) -> None:
    async with f.db_session(db_url) as s:
        gh = (await s.execute(select(Connection))).scalars().one()
        await f.add_pull_request(s, connection=gh, title=title)


async def test_a_write_by_another_client_of_the_database_retires_the_cached_page(client, db_url) -> None:
    await _seed(db_url, ["one", "two"])
    assert await _titles(client) == ["two", "one"]
    assert await _titles(client) == ["two", "one"]  # now cached
    await asyncio.to_thread(_outside_writer(db_url), "UPDATE pull_requests SET title = 'renamed' WHERE title = 'one'")
    if db_url.startswith("sqlite"):
        assert await _titles(client) == ["two", "renamed"]  # data_version: not even one stale answer
    else:
        assert await _eventually(client, ["two", "renamed"]) == ["two", "renamed"]
    await asyncio.to_thread(_outside_writer(db_url), "DELETE FROM pull_requests WHERE title = 'two'")
    assert await _eventually(client, ["renamed"]) == ["renamed"]


async def test_revalidation_gets_304_from_the_cache_and_a_new_etag_after_a_change(client, db_url) -> None:
    await _seed(db_url, ["one"])
    etag = (await client.get(PATH)).headers["etag"]
    # a conditional request that misses the cache still fills it (the app is asked for the full page)
    client.app.state.response_cache.clear()  # type: ignore[attr-defined]
    misses = cache_count("miss")
    resp = await client.get(PATH, headers={"If-None-Match": etag})
    assert resp.status_code == 304 and resp.content == b"" and resp.headers["etag"] == etag
    assert cache_count("miss") == misses + 1
    hits = cache_count("hit")
    resp = await client.get(PATH, headers={"If-None-Match": f'W/{etag}, "other"'})
    assert resp.status_code == 304 and cache_count("hit") == hits + 1
    assert "content-type" not in resp.headers
    await _seed_more(db_url, "two")
    resp = await client.get(PATH, headers={"If-None-Match": etag})
    assert resp.status_code == 200 and resp.headers["etag"] != etag


async def test_errors_are_not_cached(client, db_url) -> None:
    await _seed(db_url, ["one"])
    for _ in range(2):
        resp = await client.get(PATH, params={"limit": 0})
        assert resp.status_code == 422
    assert len(client.app.state.response_cache) == 0  # type: ignore[attr-defined]


async def test_a_zero_budget_switches_the_cache_off(uncached_client, db_url) -> None:
    await _seed(db_url, ["one"])
    counts = [cache_count(r) for r in ("hit", "miss", "bypass")]
    for _ in range(3):
        assert await _titles(uncached_client) == ["one"]
    assert [cache_count(r) for r in ("hit", "miss", "bypass")] == counts
    assert len(uncached_client.app.state.response_cache) == 0  # type: ignore[attr-defined]
    # and no change signal is kept up for it (on PostgreSQL: no LISTEN connection, no probes)
    assert isinstance(uncached_client.app.state.data_changes, NoChanges)  # type: ignore[attr-defined]


@pytest.mark.parametrize("db_engine_name", ["postgresql"], indirect=True)
async def test_without_its_listen_connection_the_cache_is_bypassed_until_it_is_back(client, db_url) -> None:
    changes = client.app.state.data_changes  # type: ignore[attr-defined]
    await _seed(db_url, ["one"])
    assert await _titles(client) == ["one"]
    with psycopg.connect(db_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'hyperpage-listen' AND datname = current_database()"
        )
        assert killed.fetchall() == [(True,)]
        for _ in range(100):  # the termination is noticed on the listener's connection
            if not changes.listening:
                break
            await asyncio.sleep(0.05)
        assert not changes.listening
        # a write nobody is told about: the cache must not answer with the old page meanwhile
        admin.execute("UPDATE pull_requests SET title = 'renamed'")
    bypasses = cache_count("bypass")
    assert await _titles(client) == ["renamed"]
    assert cache_count("bypass") == bypasses + 1
    for _ in range(200):  # reconnects with backoff (0.5 s first)
        if changes.listening:
            break
        await asyncio.sleep(0.05)
    assert changes.listening
    hits = cache_count("hit")
    assert await _titles(client) == ["renamed"]
    assert await _titles(client) == ["renamed"]
    assert cache_count("hit") == hits + 1


async def test_concurrent_misses_of_one_page_run_the_query_once(client, db_url) -> None:
    await _seed(db_url, ["one", "two"])
    first = await client.get(PATH)
    await _seed_more(db_url, "three")  # a change: every poller now misses at once
    counts = {r: cache_count(r) for r in ("miss", "shared", "hit")}
    responses = await asyncio.gather(*(client.get(PATH) for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1 and responses[0].content != first.content
    assert cache_count("miss") - counts["miss"] == 1
    shared, hits = (cache_count(r) - counts[r] for r in ("shared", "hit"))
    # PostgreSQL's read awaits the server, so the other nine arrive while it runs and share its answer; SQLite's
    # runs on the loop without a pause (listing/reader.py), so it may be over before they arrive: then they hit
    assert shared + hits == 9
    if db_url.startswith("postgresql"):
        assert shared == 9


@pytest.mark.parametrize("db_engine_name", ["postgresql"], indirect=True)
async def test_a_database_without_the_change_triggers_is_never_cached(db_url) -> None:
    with psycopg.connect(db_url, autocommit=True) as admin:  # as if migration 0002 had not run
        admin.execute("DROP FUNCTION hyperpage_notify_data_changed() CASCADE")
    await _seed(db_url, ["one"])
    async with _app_client(db_url, trusted=False) as http:  # the listener connects, looks for the triggers, gives up
        assert "run `hyperpage db upgrade`" in await _refused_because(http)
        await _assert_answered_without_cache(http, ["one"])
        assert not http.app.state.data_changes.listening  # type: ignore[attr-defined]


@pytest.mark.parametrize("db_engine_name", ["postgresql"], indirect=True)
async def test_a_listen_connection_that_hears_nothing_is_detected_and_never_trusted(
    db_url, pg_cluster, pg_template
) -> None:
    # LISTEN on another database succeeds and hears nothing, like LISTEN through a transaction-mode PgBouncer
    elsewhere = pg_cluster.create_database(template=pg_template)
    try:
        await _seed(db_url, ["one"])
        async with _app_client(db_url, trusted=False, hyperpage_listen_database_url=pg_cluster.url(elsewhere)) as http:
            assert "set HYPERPAGE_LISTEN_DATABASE_URL" in await _refused_because(http)
            await _assert_answered_without_cache(http, ["one"])
    finally:
        pg_cluster.drop_database(elsewhere)


@pytest.mark.parametrize("db_engine_name", ["postgresql"], indirect=True)
async def test_probes_of_other_processes_do_not_empty_the_cache(db_url) -> None:
    # its own app, without the scheduler (whose lease commits are real writes) and listening before the first
    # request: with the shared `client` fixture the page was sometimes not cached yet, or retired by a lease
    await _seed(db_url, ["one"])
    async with _app_client(db_url) as client:
        await _titles(client)
        hits = cache_count("hit")
        # A marker the listener is waiting for, sent after the other probe: notifications arrive in commit order,
        # so once the marker is in, the other probe has been handled too.
        probes = client.app.state.data_changes._probes  # type: ignore[attr-defined]
        marker = probes["probe:marker"] = asyncio.Event()
        with psycopg.connect(db_url, autocommit=True) as other:  # what another pod's keep-alive probe sends
            other.execute("SELECT pg_notify('hyperpage_data_changed', 'probe:0123')")
            other.execute("SELECT pg_notify('hyperpage_data_changed', 'probe:marker')")
        async with asyncio.timeout(10):
            await marker.wait()
        del probes["probe:marker"]
        await _titles(client)
        assert cache_count("hit") == hits + 1
