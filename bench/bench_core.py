"""Service core: start-up to first ready, and /livez and /api/health throughput against the ceiling."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.pg import PgCluster
from tests.serverproc import HYPERPAGE, ServerProcess

from bench.common import LoadResult, median, wrk
from hyperpage.db import schema

RUNS = 5


def startup_seconds(env: dict[str, str], workdir: Path) -> float:
    """Time from process spawn to the first /readyz 200."""
    server = ServerProcess(env=env)
    started = time.perf_counter()
    server.start(workdir / "startup.log")
    try:
        if not server.wait_status("/readyz", 200, timeout=30):
            raise RuntimeError(f"not ready within 30 s:\n{server.logs()}")
        return time.perf_counter() - started
    finally:
        server.stop()


def load(
    env: dict[str, str], workdir: Path, paths: list[str], args: list[str] | None = None, connections: int = 32
) -> dict[str, LoadResult]:
    server = ServerProcess(env={**env, "LOG_LEVEL": "WARNING"}, args=args or [HYPERPAGE, "serve"])
    server.start(workdir / "load.log")
    try:
        if not server.wait_status("/livez" if args else "/readyz", 200, timeout=30):
            raise RuntimeError(server.logs())
        for path in paths:
            wrk(server.base_url + path, seconds=2)  # warm-up
        return {
            path: wrk(server.base_url + path, connections=connections, threads=min(2, connections)) for path in paths
        }
    finally:
        server.stop()


def main(_args: list[str]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hyperpage-bench-"))
    cluster = PgCluster.start()
    try:
        sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
        pg_url = cluster.url(cluster.create_database(prefix="bench"))
        for url in (sqlite_url, pg_url):
            schema.upgrade(url)
        engines = {"sqlite": {"DATABASE_URL": sqlite_url}, "postgresql": {"DATABASE_URL": pg_url}}

        print(f"start-up to first /readyz 200, median of {RUNS} (seed target < 30 s):")
        for name, env in engines.items():
            runs = [startup_seconds(env, workdir) for _ in range(RUNS)]
            print(f"  {name:<10} median {median(runs):.2f} s  (runs: {', '.join(f'{r:.2f}' for r in runs)})")

        ceiling_args = [
            sys.executable,
            "-c",
            "from hyperpage import server; from hyperpage.config import "
            "get_settings as g; s=g(); server.run(server.build_config(s, app='bench.ceiling:create'), s)",
        ]
        ceiling = load(engines["sqlite"], workdir, ["/"], args=ceiling_args)["/"]
        print("\nthroughput, 1 uvicorn process, wrk -t2 -c32 -d8s on the same 2 cores:")
        print("  " + ceiling.row("ceiling: minimal ASGI endpoint"))
        for name, env in engines.items():
            results = load(env, workdir, ["/livez", "/api/health"])
            for path, result in results.items():
                print("  " + result.row(f"{name} {path}", ceiling))
    finally:
        cluster.destroy()
