"""The request pipeline in-process: CPU microseconds per request through the ASGI app, no server, no load tool.

Far less noisy than wrk on a shared 2-core machine (it counts this process's CPU time, not wall time), so it can
tell a 2 us change in the middlewares apart. Each figure is the median of several rounds of N calls, printed
next to the same-run baseline: the minimal ASGI app of the ceiling (bench/ceiling.py) called the same way.
Run one engine's pages cached (hits: every middleware, then the cache's replay) and uncached (every middleware,
the list route and its SQL). `python -m bench pipeline`; HYPERPAGE_BENCH_PIPELINE_N sets the calls per round.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.conftest import make_settings

from bench.bench_api import PATHS, seeded_databases
from bench.ceiling import app as ceiling_app
from hyperpage.main import create_app

ROUNDS = 5
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scope(target: str) -> dict[str, Any]:
    """The scope uvicorn's httptools protocol builds for `wrk`'s request (it sends only Host)."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000")],
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _cpu_us_per_call(app: App, target: str, calls: int) -> float:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(_scope(target), _receive, send)  # warm: the first call fills the cache, compiles, connects
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(calls):
            await app(_scope(target), _receive, send)
        rounds.append((time.process_time() - started) / calls * 1e6)
    if set(statuses) != {200}:
        raise RuntimeError(f"{target} answered {sorted(set(statuses))}, not only 200")
    return statistics.median(rounds)


async def _measure(url: str, calls: int) -> None:
    baseline = await _cpu_us_per_call(ceiling_app, "/", calls * 10)
    print(f"  baseline (minimal ASGI app, same calls): {baseline:.1f} us CPU per request")
    for cached in (True, False):
        overrides: dict[str, Any] = {} if cached else {"hyperpage_api_cache_mb": 0}
        settings = make_settings(
            url, hyperpage_scheduler=False, hyperpage_rate_limit_per_hour=10**9, log_level="WARNING", **overrides
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            for _ in range(200 if cached else 0):  # PostgreSQL: the cache is bypassed until LISTEN heard its probe
                if app.state.data_changes.version() is not None:
                    break
                await asyncio.sleep(0.05)
            for target in PATHS:
                n = calls if cached else max(calls // 10, 50)
                us = await _cpu_us_per_call(app, target, n)
                label = "cached" if cached else "uncached"
                print(f"  {label:8} {target}: {us:7.1f} us CPU per request ({us / baseline:.0f}x the baseline)")


def main(_args: list[str]) -> None:
    calls = int(os.environ.get("HYPERPAGE_BENCH_PIPELINE_N", "2000"))
    with seeded_databases("bench-pipeline") as (urls, _workdir):
        for name, url in urls.items():
            print(f"{name}: in-process ASGI calls, median of {ROUNDS} rounds (process CPU time)")
            asyncio.run(_measure(url, calls))
