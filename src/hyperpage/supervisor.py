"""Several worker processes on one listening socket, each with the drain behaviour of DrainingServer.

uvicorn's own multi-process supervisor builds plain uvicorn servers in its children, which would lose the
readiness-drops-first shutdown. Here the parent binds the socket once, starts `python -m hyperpage.server
--fd N` children that inherit it, forwards SIGTERM/SIGINT to them, restarts a child that dies, and exits
when all have drained. Counters from all children are merged through prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from types import FrameType

import uvicorn

from hyperpage.config import Settings
from hyperpage.logging import get_logger

log = get_logger(__name__)
CRASH_WINDOW_SECONDS = 10.0


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if the supervisor dies without stopping it (e.g. SIGKILL)."""
    with contextlib.suppress(OSError):  # not Linux: children are still stopped by the signal forwarding
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Supervisor:
    def __init__(self, config: uvicorn.Config, settings: Settings, app_ref: str, *, metrics: bool = False) -> None:
        self.config = config
        self.metrics = metrics
        self.metrics_sock: socket.socket | None = None
        self.settings = settings
        self.app_ref = app_ref
        self.children: list[subprocess.Popen[bytes]] = []
        self.started_at: dict[int, float] = {}
        self.stopping = False

    def run(self) -> int:
        sock = self.config.bind_socket()
        sock.set_inheritable(True)
        # the metrics port is shared the same way: any child answers a scrape with every child's merged numbers
        self.metrics_sock = self._bind_metrics() if self.metrics else None
        metrics_dir = tempfile.mkdtemp(prefix="hyperpage-metrics-")
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.children = [self._spawn(sock.fileno(), env) for _ in range(self.config.workers)]
            log.info("workers_started", workers=len(self.children), pids=[c.pid for c in self.children])
            return self._watch(sock.fileno(), env)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            sock.close()
            if self.metrics_sock is not None:
                self.metrics_sock.close()
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _bind_metrics(self) -> socket.socket:
        config = uvicorn.Config(self.config.app, host=self.config.host, port=self.settings.hyperpage_metrics_port)
        metrics_sock = config.bind_socket()
        metrics_sock.set_inheritable(True)
        return metrics_sock

    def _spawn(self, fd: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "hyperpage.server", "--fd", str(fd), "--app", self.app_ref]
        fds = [fd]
        if self.metrics_sock is not None:
            args += ["--metrics-fd", str(self.metrics_sock.fileno())]
            fds.append(self.metrics_sock.fileno())
        child = subprocess.Popen(
            args,
            pass_fds=tuple(fds),
            env=env,
            # Own session: a Ctrl-C or a group-wide SIGTERM reaches the children once, through us.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.started_at[child.pid] = time.monotonic()
        return child

    def _on_signal(self, sig: int, _frame: FrameType | None) -> None:
        first = not self.stopping
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(sig if first else signal.SIGKILL)

    def _watch(self, fd: int, env: dict[str, str]) -> int:
        while not self.stopping:
            time.sleep(0.2)
            for i, child in enumerate(self.children):
                if child.poll() is None or self.stopping:
                    continue
                if time.monotonic() - self.started_at.pop(child.pid, 0.0) < CRASH_WINDOW_SECONDS:
                    log.error("worker_crashed_at_start", pid=child.pid, code=child.returncode)
                    self._on_signal(signal.SIGTERM, None)
                    break
                log.warning("worker_died", pid=child.pid, code=child.returncode)
                self._mark_dead(child.pid, env)
                self.children[i] = self._spawn(fd, env)
        deadline = time.monotonic() + self.settings.hyperpage_shutdown_grace_seconds + 2
        codes = [self._wait(child, deadline) for child in self.children]
        return 0 if all(code == 0 for code in codes) else 1

    @staticmethod
    def _wait(child: subprocess.Popen[bytes], deadline: float) -> int:
        try:
            return child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()

    @staticmethod
    def _mark_dead(pid: int, env: dict[str, str]) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, env["PROMETHEUS_MULTIPROC_DIR"])
