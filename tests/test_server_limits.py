"""A real `hyperpage serve` under idle, slow and oversized clients on loopback: memory and descriptors stay bounded.

Bounded by construction: at most 300 local sockets, one 100 MB stream that the server cuts off, and every wait
has a deadline. The server's own numbers come from /proc/<pid>/status (VmRSS, VmHWM = peak RSS) and
/proc/<pid>/fd (open descriptors), see proc(5).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

import httpx

from hyperpage.db import schema
from tests.serverproc import ServerProcess, wait_until

HEADER_TIMEOUT = 2.0
MAX_CONNECTIONS = 250


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _start(tmp_path: Path) -> ServerProcess:
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    server = ServerProcess(
        env={
            "DATABASE_URL": f"sqlite:///{db}",
            "HYPERPAGE_SCHEDULER": "false",
            "LOG_LEVEL": "ERROR",
            "HYPERPAGE_HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "HYPERPAGE_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        }
    ).start(tmp_path / "serve.log")
    assert server.wait_status("/readyz", 200, timeout=45), server.logs()
    return server


def test_idle_and_slow_clients_are_closed_and_connections_are_capped(tmp_path) -> None:
    server = _start(tmp_path)
    pid = server.proc.pid
    idle: list[socket.socket] = []
    try:
        baseline = _fds(pid)
        opened = time.monotonic()
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(200)]
        slow = socket.create_connection(("127.0.0.1", server.port))
        assert server.status("/livez") == 200  # 201 connections, below the cap: still served
        for _ in range(60):  # beyond the cap: closed at once, the descriptor count does not follow
            idle.append(socket.create_connection(("127.0.0.1", server.port)))
        assert wait_until(lambda: _fds(pid) <= baseline + MAX_CONNECTIONS + 5, timeout=3), _fds(pid)
        assert _closed_by_peer(idle[-1], timeout=1.0)

        # a request head sent one byte every 0.3 s is still cut off at the deadline, not kept alive by the bytes
        for byte in b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ":
            if time.monotonic() - opened > HEADER_TIMEOUT + 1.5:
                break
            with contextlib.suppress(OSError):
                slow.sendall(bytes([byte]))
            time.sleep(0.3)
        assert _closed_by_peer(slow, timeout=1.0)
        assert all(_closed_by_peer(sock, timeout=0.2) for sock in idle[:200])  # idle ones too, by now
        assert time.monotonic() - opened < HEADER_TIMEOUT + 4.0
        assert wait_until(lambda: _fds(pid) <= baseline + 3, timeout=3), (_fds(pid), baseline)
        assert server.status("/livez") == 200
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_a_100_mb_header_is_cut_off_early_and_memory_stays_bounded(tmp_path) -> None:
    server = _start(tmp_path)
    pid = server.proc.pid
    try:
        rss_before = _status_kb(pid, "VmRSS")
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk, sent, refused = b"a" * (1 << 20), 0, False
        sock.settimeout(5)
        while sent < 100 * (1 << 20):
            try:
                sock.sendall(chunk)
            except OSError:  # reset or broken pipe: the server has closed the connection
                refused = True
                break
            sent += len(chunk)
        with contextlib.suppress(OSError):
            reply = sock.recv(200)
            assert reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply
        sock.close()
        assert refused, "the server read a 100 MB header without closing the connection"
        assert sent < 16 * (1 << 20), f"{sent} bytes accepted before the cut-off"
        peak_growth_mb = (_status_kb(pid, "VmHWM") - rss_before) / 1024
        assert peak_growth_mb < 20, f"peak RSS grew by {peak_growth_mb:.0f} MB"
        assert server.status("/livez") == 200
        # a large but allowed head (a 20 KB cookie) is still served
        big_cookie = {"Cookie": "c=" + "x" * 20_000}
        assert httpx.get(server.base_url + "/livez", headers=big_cookie, timeout=5).status_code == 200
    finally:
        server.stop()
