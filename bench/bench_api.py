"""Data API: GET /api/v1/reviews?limit=50 over 10,000 pull requests, SQLite and PostgreSQL, vs the ceiling.

One uvicorn process per engine, wrk -t2 -c32 on the same 2 cores; the rate limiter stays on (memory storage)
with a limit high enough never to trigger, so its cost is part of the figure. Three modes per engine:
- cached: the response cache on (the default), data unchanged: what a team's dashboards polling cost;
- cached, a write every second: another connection commits every second, as a running sync does, so the
  cache is emptied each second and refilled by the next request;
- uncached: `HYPERPAGE_API_CACHE_MB=0`, every request runs the query: the cost of a first or unusual view;
  also with one client (wrk -c1), whose latency is the time one uncached request takes.
`HYPERPAGE_BENCH_HTTP_PROTOCOLS=h11,httptools` prints one table per HTTP parser (HYPERPAGE_HTTP_PROTOCOL) in the
same run; by default the server's own choice (`auto`).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert
from tests import factories as f
from tests.pg import PgCluster

from bench.bench_core import load
from hyperpage.db import schema
from hyperpage.reviews.models import PullRequest

PULL_REQUESTS = 10_000
PATHS = [
    "/api/v1/reviews?limit=50",
    "/api/v1/reviews?limit=50&state=OPEN&q=module",
    "/api/v1/reviews?limit=50&reviewer=carol",
]


async def seed(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        connections = [await f.add_connection(s, tool=t) for t in ("github", "gitlab")]
        repos = [
            await f.add_repository(s, connection=connections[i % 2], full_name=f"acme/repo-{i}") for i in range(20)
        ]
        rows = []
        for n in range(PULL_REQUESTS):
            repo = repos[n % 20]
            updated = f.BASE_TIME - timedelta(minutes=n)
            rows.append(
                {
                    "connection_id": repo.connection_id,
                    "repository_id": repo.id,
                    "external_id": f"pr-{n}",
                    "number": n,
                    "title": f"Change {n} to module {n % 97}",
                    "state": ("OPEN", "MERGED", "CLOSED")[n % 3],
                    "original_state": "open",
                    "draft": n % 11 == 0,
                    "author": f"user{n % 40}",
                    "requested_reviewers": ["carol"] if n % 7 == 0 else [f"user{n % 13}"],
                    "labels": ["bench"],
                    "source_branch": f"feature/{n}",
                    "target_branch": "main",
                    "web_url": f"https://example.test/{n}",
                    "created_at": updated - timedelta(hours=2),
                    "updated_at": updated,
                    "synced_at": updated,
                }
            )
        for start in range(0, len(rows), 1000):
            await s.execute(insert(PullRequest), rows[start : start + 1000])


@contextmanager
def writes_every_second(url: str) -> Iterator[None]:
    """Commit one UPDATE per second from another connection while the load runs."""
    stop = threading.Event()
    sql = "UPDATE pull_requests SET title = title || '.' WHERE id = 1"

    def run() -> None:
        while not stop.wait(1.0):
            if url.startswith("sqlite"):
                with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=5) as conn:
                    conn.execute(sql)
            else:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(sql)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def seeded_databases(prefix: str) -> Iterator[tuple[dict[str, str], Path]]:
    """A SQLite file and a PostgreSQL database (on a throwaway cluster), both at the head and seeded; a workdir."""
    workdir = Path(tempfile.mkdtemp(prefix=f"hyperpage-{prefix}-"))
    cluster = PgCluster.start()
    try:
        urls = {
            "sqlite": f"sqlite:///{workdir / 'api.db'}",
            "postgresql": cluster.url(cluster.create_database(prefix=prefix.replace("-", "_"))),
        }
        for url in urls.values():
            schema.upgrade(url)
            asyncio.run(seed(url))
        yield urls, workdir
    finally:
        cluster.destroy()


def main(_args: list[str]) -> None:
    # A pool as large as the useful concurrency and no overflow: an overflow connection is opened and closed
    # per request (on SQLite a new aiosqlite thread plus the PRAGMAs), which measured 2-4x slower under wrk.
    common = {
        "HYPERPAGE_RATE_LIMIT_PER_HOUR": "1000000000",
        "HYPERPAGE_SCHEDULER": "false",
        "DB_POOL_SIZE": "10",
        "DB_MAX_OVERFLOW": "0",
    }
    with seeded_databases("bench-api") as (urls, workdir):
        # HYPERPAGE_BENCH_HTTP_PROTOCOLS=h11,httptools: one table per HTTP parser, each with its own ceiling
        for protocol in os.environ.get("HYPERPAGE_BENCH_HTTP_PROTOCOLS", "auto").split(","):
            table(urls, {**common, "HYPERPAGE_HTTP_PROTOCOL": protocol.strip()}, workdir)


def table(urls: dict[str, str], common: dict[str, str], workdir: Path) -> None:
    """The ceiling, then each engine's cached, written-to and uncached figures, all served by the same parser."""
    ceiling_args = [
        sys.executable,
        "-c",
        "from hyperpage import server; from hyperpage.config import "
        "get_settings as g; s=g(); server.run(server.build_config(s, app='bench.ceiling:create'), s)",
    ]
    ceiling = load({"DATABASE_URL": urls["sqlite"], **common}, workdir, ["/"], args=ceiling_args)["/"]
    print(
        f"{PULL_REQUESTS} pull requests; 1 uvicorn process, HTTP parser {common['HYPERPAGE_HTTP_PROTOCOL']}; "
        "wrk -t2 -c32 -d8s on the same 2 cores; "
        f"load average before: {os.getloadavg()[0]:.1f} (figures are only comparable at a low load)"
    )
    print("  " + ceiling.row("ceiling: minimal ASGI endpoint"))
    for name, url in urls.items():
        env = {"DATABASE_URL": url, **common}
        for path, result in load(env, workdir, PATHS).items():
            print("  " + result.row(f"{name} cached {path.removeprefix('/api/v1/reviews?')}", ceiling))
        with writes_every_second(url):
            result = load(env, workdir, PATHS[:1])[PATHS[0]]
        print("  " + result.row(f"{name} cached, 1 write/s limit=50", ceiling))
        uncached = load({**env, "HYPERPAGE_API_CACHE_MB": "0"}, workdir, PATHS)
        for path, result in uncached.items():
            print("  " + result.row(f"{name} uncached {path.removeprefix('/api/v1/reviews?')}", ceiling))
        plain = uncached[PATHS[0]].rps
        print(
            f"  {name} uncached filtered/searched vs plain: "
            + ", ".join(f"{uncached[p].rps / plain:.0%}" for p in PATHS[1:])
            + " (target >= 80%)"
        )
        one = load({**env, "HYPERPAGE_API_CACHE_MB": "0"}, workdir, PATHS[:1], connections=1)[PATHS[0]]
        print("  " + one.row(f"{name} uncached, one client (c1) limit=50", ceiling))
    print(
        "targets (issue 18): uncached limit=50 >= 2,000 req/s with P95 < 30 ms, one client P50 < 1 ms; "
        "cached >= 30% of the ceiling; filtered and searched within 20% of the plain page"
    )
