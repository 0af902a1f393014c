"""Start `hyperpage demo upstream` and `hyperpage worker` as real processes on loopback, and stop them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from tests.tooling import free_port


def wait_for(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (httpx.TransportError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class FakeUpstreamProcess:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hyperpage.cli",
                "demo",
                "upstream",
                "--port",
                str(self.port),
                "--activity",
                "0",
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: httpx.get(f"{self.base}/_fake/world", timeout=1).status_code == 200, what="fake upstream")

    def world(self) -> dict[str, Any]:
        return httpx.get(f"{self.base}/_fake/world").json()

    def calls(self, suffix: str, status: int | None = None) -> int:
        rows = httpx.get(f"{self.base}/_fake/stats").json()["requests"]
        return sum(r["count"] for r in rows if r["route"].endswith(suffix) and status in (None, r["status"]))

    def fault(self, **body: Any) -> None:
        httpx.post(f"{self.base}/_fake/faults", json=body).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:  # uvicorn waits for a response a fault is still holding back
            self.proc.kill()
            self.proc.wait(timeout=5)


def worker_env(db_url: str, upstream: FakeUpstreamProcess, repos: list[str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "JIRA_", "SYNC_"))}
    env.update(
        DATABASE_URL=db_url,
        ENABLE_GITHUB="true",
        GITHUB_TOKEN=DEMO_GITHUB_TOKEN,
        GITHUB_API_URL=f"{upstream.base}/github",
        GITHUB_REPOS=",".join(repos),
        LOG_FORMAT="json",
        HYPERPAGE_DRAIN_SECONDS="0",
        **extra,
    )
    return env


def start_workers(env: dict[str, str], logs: list[Path]) -> list[tuple[subprocess.Popen[bytes], int]]:
    """Start all workers first, then wait for each to be ready, so they compete for the same jobs."""
    started = []
    for log in logs:
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hyperpage.cli", "worker", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append((proc, port))
    for (_proc, port), log in zip(started, logs, strict=True):
        wait_for(
            lambda port=port: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200,
            what=f"worker on port {port} (log {log})",
        )
    return started
