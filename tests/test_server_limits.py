"""A real `hyperpage serve` under idle, slow and oversized clients on loopback: memory and descriptors stay bounded.

Every test runs on both HTTP parsers (HYPERPAGE_HTTP_PROTOCOL=h11 and httptools): each has its own guards in
serverlimits.py / serverlimits_httptools.py. Bounded by construction: at most 300 local sockets, one 100 MB stream
that the server cuts off, and every wait has a deadline. The server's own numbers come from /proc/<pid>/status
(VmRSS, VmHWM = peak RSS) and /proc/<pid>/fd (open descriptors), see proc(5).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hyperpage.db import schema
from tests.serverproc import ServerProcess, wait_until

HEADER_TIMEOUT = 2.0
MAX_CONNECTIONS = 250
MAX_HEADER_BYTES = 4_096  # the smallest allowed: the tests' heads stay small
PROTOCOLS = pytest.mark.parametrize("protocol", ["h11", "httptools"])


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


@contextlib.contextmanager
def _serving(tmp_path: Path, protocol: str, args: list[str] | None = None, **env: str) -> Iterator[ServerProcess]:
    db = tmp_path / "h.db"
    schema.upgrade(f"sqlite:///{db}")
    server = ServerProcess(
        env={
            "DATABASE_URL": f"sqlite:///{db}",
            "HYPERPAGE_SCHEDULER": "false",
            "LOG_LEVEL": "ERROR",
            "HYPERPAGE_HTTP_PROTOCOL": protocol,
            "HYPERPAGE_HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "HYPERPAGE_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            **env,
        },
        **({"args": args} if args else {}),
    ).start(tmp_path / "serve.log")
    try:
        assert server.wait_status("/readyz", 200, timeout=45), server.logs()
        yield server
    finally:
        server.stop()


@PROTOCOLS
def test_idle_and_slow_clients_are_closed_and_connections_are_capped(tmp_path, protocol) -> None:
    with _serving(tmp_path, protocol) as server, contextlib.ExitStack() as sockets:
        pid = server.proc.pid
        baseline = _fds(pid)
        opened = time.monotonic()
        idle = [sockets.enter_context(socket.create_connection(("127.0.0.1", server.port))) for _ in range(200)]
        slow = sockets.enter_context(socket.create_connection(("127.0.0.1", server.port)))
        assert server.status("/livez") == 200  # 201 connections, below the cap: still served
        for _ in range(60):  # beyond the cap: closed at once, the descriptor count does not follow
            idle.append(sockets.enter_context(socket.create_connection(("127.0.0.1", server.port))))
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


@PROTOCOLS
def test_a_100_mb_header_is_cut_off_early_and_memory_stays_bounded(tmp_path, protocol) -> None:
    with _serving(tmp_path, protocol) as server:
        pid = server.proc.pid
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
            assert reply == b"" or reply.startswith(b"HTTP/1.1 431 "), reply
        sock.close()
        assert refused, "the server read a 100 MB header without closing the connection"
        assert sent < 16 * (1 << 20), f"{sent} bytes accepted before the cut-off"
        peak_growth_mb = (_status_kb(pid, "VmHWM") - rss_before) / 1024
        assert peak_growth_mb < 20, f"peak RSS grew by {peak_growth_mb:.0f} MB"
        assert server.status("/livez") == 200
        # a large but allowed head (a 20 KB cookie) is still served
        big_cookie = {"Cookie": "c=" + "x" * 20_000}
        assert httpx.get(server.base_url + "/livez", headers=big_cookie, timeout=5).status_code == 200


def _head(size: int, *, path: str = "/livez", close: bool = False) -> bytes:
    """A canonically written GET head of exactly `size` bytes, padded with one header."""
    start = f"GET {path} HTTP/1.1\r\nHost: x\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}X-Pad: "
    head = start.encode() + b"\r\n\r\n"
    assert size >= len(head), size
    return start.encode() + b"p" * (size - len(head)) + b"\r\n\r\n"


def _send_in_pieces(port: int, data: bytes, piece: int) -> bytes:
    """Send `data` a few hundred bytes at a time (each piece its own read on the server), then read to the end.

    The client stops sending once the server has been sent more than the limit: it must answer then, and a socket
    closed with unread data is reset by the kernel, which could discard the answer before it is read.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for end in range(piece, len(data) + piece, piece):
            sock.sendall(data[end - piece : end])
            if end > MAX_HEADER_BYTES:
                break
            time.sleep(0.001)
        return _read_to_end(sock)


def _read_to_end(sock: socket.socket) -> bytes:
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


@PROTOCOLS
def test_an_oversized_head_in_small_pieces_is_answered_431_and_the_connection_closed(tmp_path, protocol) -> None:
    with _serving(tmp_path, protocol, HYPERPAGE_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES)) as server:
        reply = _send_in_pieces(server.port, _head(3 * MAX_HEADER_BYTES), piece=256)
        # RFC 6585 §5: 431 Request Header Fields Too Large; the rest of the head is not read, so the server closes
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), reply[:200]
        assert b"\r\nconnection: close" in head.lower() and body == b"Request header fields too large."
        assert server.status("/livez") == 200


@PROTOCOLS
def test_a_head_of_exactly_the_limit_is_served(tmp_path, protocol) -> None:
    with _serving(tmp_path, protocol, HYPERPAGE_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES)) as server:
        at_limit = _head(MAX_HEADER_BYTES, close=True)
        assert _send_in_pieces(server.port, at_limit, piece=100).startswith(b"HTTP/1.1 200 OK\r\n")
        if protocol == "httptools":
            # exact there; h11 counts only the buffered part of an incomplete head, so it may pass one read more
            one_more = _send_in_pieces(server.port, _head(MAX_HEADER_BYTES + 1, close=True), piece=MAX_HEADER_BYTES + 1)
            assert one_more.startswith(b"HTTP/1.1 431 "), one_more[:100]


@PROTOCOLS
def test_pipelined_requests_are_all_answered_in_order(tmp_path, protocol) -> None:
    # RFC 9112 §9.3.2: a client may send several requests without waiting; the server answers them in order.
    # Together they are over the head limit, each one under it: the limit is per head, not per connection read.
    with _serving(tmp_path, protocol, HYPERPAGE_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES)) as server:
        paths = [f"/livez?n={n}" for n in range(30)] + ["/missing"]
        batch = b"".join(_head(300, path=path, close=path == "/missing") for path in paths)
        assert len(batch) > 2 * MAX_HEADER_BYTES
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(batch)
            replies = _read_to_end(sock)
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", replies)
        assert statuses == [b"200"] * 30 + [b"404"], replies[-300:]


@PROTOCOLS
def test_the_head_deadline_does_not_cut_a_slow_response_or_the_next_request(tmp_path, protocol) -> None:
    with (
        _serving(tmp_path, protocol, args=[sys.executable, "-m", "tests.apps.slow_app"]) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,  # one kept-alive connection
    ):
        slow = client.get("/test/slow", params={"seconds": HEADER_TIMEOUT + 1.0})
        assert slow.status_code == 200 and slow.json() == {"slept": HEADER_TIMEOUT + 1.0}
        assert client.get("/livez").status_code == 200
