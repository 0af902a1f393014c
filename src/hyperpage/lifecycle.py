"""Process lifecycle shared by the server and the probes: started, draining, uptime."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Lifecycle:
    """Readiness follows this: not ready until started, and not ready again from SIGTERM until exit."""

    created_monotonic: float = field(default_factory=time.monotonic)
    started: bool = False
    draining: bool = False
    drain_started_monotonic: float | None = None

    def mark_started(self) -> None:
        self.started = True

    def begin_drain(self) -> None:
        if not self.draining:
            self.draining = True
            self.drain_started_monotonic = time.monotonic()

    def seconds_draining(self) -> float:
        if self.drain_started_monotonic is None:
            return 0.0
        return time.monotonic() - self.drain_started_monotonic

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.created_monotonic


# One per process: uvicorn's signal handler and the app's probes must see the same state.
lifecycle = Lifecycle()
