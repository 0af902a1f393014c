"""The parts of the kubelet the pod-run test needs: HTTP probes on their declared timings, and load."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


def probe_once(port: int, spec: dict[str, Any]) -> int | None:
    """One HTTP probe: the status code, or None when the connection or the timeout failed."""
    get = spec["httpGet"]
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{get['path']}", timeout=spec.get("timeoutSeconds", 1))
    except httpx.HTTPError:
        return None
    return response.status_code


def passes(status: int | None) -> bool:
    return status is not None and 200 <= status < 400


def run_startup_probe(port: int, spec: dict[str, Any], alive: Any) -> int:
    """Probe until success; the number of attempts. Fails like the kubelet after failureThreshold misses."""
    time.sleep(spec.get("initialDelaySeconds", 0))
    for attempt in range(1, spec.get("failureThreshold", 3) + 1):
        if passes(probe_once(port, spec)):
            return attempt
        assert alive(), "the process exited during start-up"
        time.sleep(spec.get("periodSeconds", 10))
    raise AssertionError(f"startup probe failed {spec.get('failureThreshold', 3)} times: the kubelet restarts the pod")


@dataclass
class PeriodicProbe:
    """A readiness or liveness probe running every periodSeconds in the background."""

    port: int
    spec: dict[str, Any]
    results: list[tuple[float, int | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> PeriodicProbe:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.results.append((time.monotonic(), probe_once(self.port, self.spec)))
            self._stop.wait(self.spec.get("periodSeconds", 10))

    def stop(self) -> None:
        self._stop.set()

    def worst_failure_streak(self) -> int:
        worst = streak = 0
        for _, status in self.results:
            streak = 0 if passes(status) else streak + 1
            worst = max(worst, streak)
        return worst

    def first_pass_after(self, moment: float) -> float | None:
        return next((t for t, status in self.results if t >= moment and passes(status)), None)


@dataclass
class Load:
    """Clients sending requests on fresh connections, as traffic routed before endpoint removal would."""

    port: int
    path: str
    outcomes: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self, clients: int = 2) -> Load:
        for _ in range(clients):
            threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{self.port}{self.path}", timeout=10, headers={"Connection": "close"}
                )
                outcome = "ok" if response.status_code == 200 else f"status {response.status_code}"
            except httpx.ConnectError:
                outcome = "refused"  # listener closed: the endpoint was removed long before
                self._stop.wait(0.05)
            except httpx.HTTPError as exc:
                outcome = f"failed in flight: {type(exc).__name__}"
            self.outcomes.append((started, outcome))

    def stop(self) -> None:
        self._stop.set()
