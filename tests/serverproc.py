"""Run `hyperpage serve` (or any command) as a real process on 127.0.0.1 and talk to it over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.tooling import REPO_ROOT, free_port

HYPERPAGE = str(Path(sys.executable).parent / "hyperpage")


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    """Poll predicate until it is true or timeout seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@dataclass
class ServerProcess:
    """A server process bound to a free local port; stopped by whoever started it."""

    env: Mapping[str, str]
    args: list[str] = field(default_factory=lambda: [HYPERPAGE, "serve"])
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)  # the web process's second listener (/metrics)
    proc: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self, log_path: Path) -> ServerProcess:
        self.log_path = log_path
        env = {
            **os.environ,
            "HYPERPAGE_HOST": "127.0.0.1",
            "HYPERPAGE_PORT": str(self.port),
            "HYPERPAGE_METRICS_PORT": str(self.metrics_port),
            **self.env,
        }
        self.proc = subprocess.Popen(
            [*self.args],
            env=env,
            cwd=REPO_ROOT,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def get(self, path: str, timeout: float = 3.0) -> httpx.Response | None:
        try:
            return httpx.get(self.base_url + path, timeout=timeout)
        except httpx.HTTPError:
            return None

    def status(self, path: str) -> int | None:
        resp = self.get(path)
        return resp.status_code if resp is not None else None

    def wait_status(self, path: str, expected: int, timeout: float = 45.0) -> bool:
        return wait_until(lambda: self.status(path) == expected, timeout=timeout)

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait(timeout=10)


def unprivileged(args: list[str]) -> list[str]:
    """Run `args` as `nobody` when the tests run as root, so file permissions apply to the server."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *args]
