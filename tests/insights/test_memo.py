"""The insights reports computed once per filter and data version (insights/memo.py), on SQLite and PostgreSQL:
the page and the API share a computation, a write gives fresh figures, concurrent views compute once, a failure
is not kept, and without a change signal nothing is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hyperpage.db.changes import PostgresChanges
from hyperpage.insights import memo, service
from tests.api.test_response_cache import _app_client
from tests.insights.scenario import seed

WINDOW = {"from": "2026-11-02", "to": "2026-11-15"}
FIGURE = "4.5 <span>a week</span>"  # the scenario's deployment frequency over WINDOW (test_insights_page.py)


class Computations:
    """Counts the runs of the service's report functions (our code, not a stand-in for it), and can hold them
    at a gate or make the next one fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail_next: Exception | None = None
        self.asked = 0  # requests that reached the memo
        for name in ("reports", "dora", "cycle_time"):
            monkeypatch.setattr(service, name, self._counted(getattr(service, name)))
        get = memo.ReportMemo.get

        async def asked(kept: memo.ReportMemo, *args: Any) -> Any:
            self.asked += 1
            return await get(kept, *args)

        monkeypatch.setattr(memo.ReportMemo, "get", asked)

    def _counted(self, real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def run(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.gate is not None:
                await self.gate.wait()
            if self.fail_next is not None:
                failure, self.fail_next = self.fail_next, None
                raise failure
            return await real(*args, **kwargs)

        return run


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> Computations:
    return Computations(monkeypatch)


@asynccontextmanager
async def _warm_client(db_url: str, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    async with _app_client(db_url, **overrides) as http:
        # each new connection of the app's SQLite engine moves data_version once (its set-up pragmas); lists read
        # on a connection of their own and a report on two pooled ones, so warm up until a view leaves it still
        assert (await http.get("/api/v1/reviews")).status_code == 200
        engine = http.app.state.engine  # type: ignore[attr-defined]
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
        yield http


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _warm_client(db_url) as http:
        yield http


async def _seed(db_url: str, http: httpx.AsyncClient) -> None:
    """The scenario's rows, written through our database; returns once the app has seen every change they make
    (PostgreSQL: a probe NOTIFY sent after them has come round, and notifications arrive in commit order), so a
    late notification cannot move the version in the middle of a test."""
    await seed(db_url)
    changes = http.app.state.data_changes  # type: ignore[attr-defined]
    if isinstance(changes, PostgresChanges):
        await changes._probe()


async def _page(http: httpx.AsyncClient) -> str:
    resp = await http.get("/insights", params=WINDOW)
    assert resp.status_code == 200
    return resp.text


async def test_the_page_and_the_api_share_one_computation(client, db_url, computations) -> None:
    await _seed(db_url, client)
    assert FIGURE in await _page(client)
    dora = (await client.get("/api/v1/insights/dora", params=WINDOW)).json()
    cycle = (await client.get("/api/v1/insights/cycle-time", params=WINDOW)).json()
    assert FIGURE in await _page(client)
    assert computations.calls == 1
    assert dora["deployment_frequency"]["per_week"] == 4.5 and cycle["window"]["days"] == 14


async def test_a_write_through_our_database_gives_fresh_figures(client, db_url, computations) -> None:
    assert "data-empty" in await _page(client)
    assert "data-empty" in await _page(client)
    assert computations.calls == 1
    await _seed(db_url, client)  # commits through our engine: the data version moves
    page = await _page(client)
    assert FIGURE in page and "data-empty" not in page
    assert computations.calls == 2


async def _held(computations: Computations, requests: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Send the requests at once while the first computation waits at the gate, so every one of them arrives
    while it runs; then let it finish."""
    computations.gate = asyncio.Event()
    sent = asyncio.gather(*requests)
    for _ in range(1000):  # every request has reached the memo (without it: a computation of its own)
        if computations.asked == len(requests) or computations.calls == len(requests):
            break
        await asyncio.sleep(0.01)
    computations.gate.set()
    return list(await sent)


async def test_concurrent_views_after_a_change_compute_once(client, db_url, computations) -> None:
    await _seed(db_url, client)
    views = [client.get("/insights", params=WINDOW) for _ in range(6)]
    calls = [client.get(f"/api/v1/insights/{path}", params=WINDOW) for path in ("dora", "cycle-time")]
    answers = await _held(computations, [*views, *calls])
    assert [r.status_code for r in answers] == [200] * 8
    assert all(FIGURE in r.text for r in answers[:6])
    assert computations.calls == 1


async def test_a_failure_reaches_every_waiter_and_is_not_kept(db_url, computations) -> None:
    async with _warm_client(db_url) as http:
        await _seed(db_url, http)
        http._transport = httpx.ASGITransport(app=http.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
        computations.fail_next = ConnectionError("database went away")
        answers = await _held(computations, [http.get("/insights", params=WINDOW) for _ in range(4)])
        assert [r.status_code for r in answers] == [500] * 4
        assert computations.calls == 1
        computations.gate = None
        assert FIGURE in await _page(http)  # the next view computes afresh instead of replaying the failure
        assert computations.calls == 2


async def test_without_a_change_signal_nothing_is_kept(db_url, computations) -> None:
    async with _warm_client(db_url, hyperpage_api_cache_mb=0) as http:
        await seed(db_url)
        assert http.app.state.data_changes.version() is None  # type: ignore[attr-defined]
        assert FIGURE in await _page(http) and FIGURE in await _page(http)
        assert (await http.get("/api/v1/insights/cycle-time", params=WINDOW)).status_code == 200
        assert computations.calls == 3
        assert len(http.app.state.insights_memo) == 0  # type: ignore[attr-defined]


async def test_a_new_version_empties_the_memo_and_the_oldest_filter_goes_first() -> None:
    kept = memo.ReportMemo(max_entries=2, max_age=60)
    made: list[str] = []

    def compute(name: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            made.append(name)
            return name

        return run

    for key in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recently used when "c" comes
        assert await kept.get(key, 1, compute(key)) == key
    assert made == ["a", "b", "c", "b"]
    await kept.get("a", 2, compute("a"))
    assert len(kept) == 1 and made[-1] == "a"

    async def outdated() -> Any:
        await kept.get("z", 3, compute("z"))  # a write lands while "b" is computed: its rows may be old
        made.append("b")
        return "b"

    await kept.get("b", 2, outdated)
    await kept.get("b", 3, compute("b"))
    assert made == ["a", "b", "c", "b", "a", "z", "b", "b"]


async def test_an_entry_past_its_age_is_computed_again() -> None:
    made: list[int] = []

    async def compute() -> Any:
        made.append(1)
        return "a"

    aged = memo.ReportMemo(max_entries=2, max_age=-1)  # every entry is already too old when it is read back
    fresh = memo.ReportMemo(max_entries=2, max_age=3600)
    for kept in (aged, fresh):
        await kept.get("a", 1, compute)
        await kept.get("a", 1, compute)
    assert len(made) == 3
