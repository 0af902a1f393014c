"""Run the fake upstream on a real socket: uvicorn in a background thread, for tests and benchmarks.

    with RunningFakeUpstream(config) as fake:
        httpx.get(fake.github_url + "/user", headers=...)
        fake.upstream.add_fault("rate_limit", service="github", retry_after=2)

A real socket matters for timeout faults: an in-process ASGITransport has no network timeout to trip.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from hyperpage.demo.config import FakeUpstreamConfig
from hyperpage.demo.upstream import FakeUpstream


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RunningFakeUpstream:
    def __init__(
        self,
        config: FakeUpstreamConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        activity_interval: float | None = None,
        upstream: FakeUpstream | None = None,
    ) -> None:
        self.upstream = upstream or FakeUpstream(config)
        self.host = host
        self.port = port or _free_port(host)
        # fixed from here on: the port is chosen before the server starts
        self.base_url = f"http://{host}:{self.port}"
        self.github_url, self.gitlab_url, self.jira_url = (f"{self.base_url}/{s}" for s in ("github", "gitlab", "jira"))
        app = self.upstream.app(activity_interval)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="on")
        )
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> RunningFakeUpstream:
        self._thread = threading.Thread(target=self._server.run, name=f"fake-upstream-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"fake upstream did not start on {self.base_url}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            # A held-back (timeout fault) response can keep a connection open: force the exit.
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> RunningFakeUpstream:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
