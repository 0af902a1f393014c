"""Bounds on what one client can hold in the HTTP server: header bytes, header time, idle time, connections.

uvicorn bounds some of it and not the rest (uvicorn 0.54, uvicorn/protocols/http/{h11,httptools}_impl.py):
- header size: h11 refuses a request head longer than `max_incomplete_event_size` (h11 docs, "Flow control";
  uvicorn passes `h11_max_incomplete_event_size`), but uvicorn answers it with a generic 400. httptools has no
  limit at all: it concatenates a header value however long it grows;
- idle time between requests: `timeout_keep_alive` starts only after a response, so a connection that never
  sends a byte, or sends a request head a byte at a time, is held forever (the "slowloris" attack);
- concurrency: `limit_concurrency` answers 503 once that many connections or tasks exist, but still
  accepts (and keeps) every further connection, each holding a file descriptor.

`bounded_protocol` gives uvicorn's h11 or httptools protocol the same guards: a request head larger than
`max_header_bytes` is answered 431 and the connection closed; every request head must be complete within
`header_timeout` seconds of the connection opening (or of its first byte, for a kept-alive connection); and
connections beyond `max_connections` are closed as soon as they are accepted. The httptools parser (C) serves
about twice the requests per second of h11's pure-Python one (bench_api's ceiling), so it is the default whenever
it imports (server.http_protocol).

Both uvicorn protocols write a response in two transport writes, the head and then the body (strace: 2,000
`write` calls for 1,000 responses). Holding the head back to send it with the body halved the calls but measured
within noise (+4 % on the ceiling app, nothing on /livez of the real app), so the write path is uvicorn's.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Callable
from typing import ClassVar, Literal

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from hyperpage.logging import get_logger

log = get_logger(__name__)
REFUSAL_LOG_SECONDS = 10.0  # a flood of refused connections is one warning per interval, not one per connection
Parser = Literal["h11", "httptools"]  # HYPERPAGE_HTTP_PROTOCOL once `auto` is resolved

# RFC 6585 §5: 431 "MAY be used when the set of request header fields in total, or a single header field, is too
# large"; the connection is closed after it because the rest of the oversized head is still on its way.
TOO_LARGE_BODY = b"Request header fields too large."


def head_too_large_response(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole 431 response, written at once; `default_headers` are uvicorn's (the Date header)."""
    lines = [b"HTTP/1.1 431 Request Header Fields Too Large"]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: text/plain; charset=utf-8",
        b"content-length: " + str(len(TOO_LARGE_BODY)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + TOO_LARGE_BODY


class ConnectionGuard:
    """The cap on open connections and the head deadline's length; one process-wide instance per protocol class."""

    def __init__(self, *, max_connections: int, header_timeout: float) -> None:
        self.max_connections, self.header_timeout = max_connections, header_timeout
        self.refused = 0
        self.logged_at = float("-inf")

    def admit(
        self, open_connections: int, transport: asyncio.Transport, expired: Callable[[], None]
    ) -> HeadDeadline | None:
        """The new connection's head deadline, started; None (and the connection aborted) beyond the cap."""
        if open_connections <= self.max_connections:
            deadline = HeadDeadline(asyncio.get_running_loop(), self.header_timeout, expired)
            deadline.start()
            return deadline
        self.refused += 1
        if time.monotonic() - self.logged_at >= REFUSAL_LOG_SECONDS:
            log.warning(
                "connections_refused",
                reason="too many open connections",
                limit=self.max_connections,
                refused=self.refused,
            )
            self.refused, self.logged_at = 0, time.monotonic()
        transport.abort()  # no FIN handshake to wait for: the descriptor is freed at once
        return None


class HeadDeadline:
    """A timer armed by the first byte of a request head and kept however many bytes trickle in after it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, expired: Callable[[], None]) -> None:
        self.loop, self.seconds, self.expired = loop, seconds, expired
        self.timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.timer is None:  # a deadline, not an idle timer: later bytes do not push it back
            self.timer = self.loop.call_later(self.seconds, self._fire)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fire(self) -> None:
        self.timer = None
        self.expired()


class GuardedConnection(asyncio.Protocol, abc.ABC):
    """What both bounded protocols share: the cap at accept and the head deadline's life with the connection.

    Listed before uvicorn's protocol among the bases, so its methods wrap uvicorn's (super()).
    """

    guard: ClassVar[ConnectionGuard]
    server_state: ServerState  # uvicorn's protocols set these two in __init__ / connection_made
    transport: asyncio.Transport
    _deadline: HeadDeadline | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's signature
        super().connection_made(transport)
        self._deadline = self.guard.admit(len(self.server_state.connections), transport, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.stop()
        super().connection_lost(exc)

    @abc.abstractmethod
    def _awaiting_head(self) -> bool:
        """True while a request head is awaited and no response is being produced."""

    def _head_timed_out(self) -> None:
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(
    kind: Parser, *, header_timeout: float, max_connections: int, max_header_bytes: int
) -> type[asyncio.Protocol]:
    """uvicorn's `kind` protocol with the head size limit, the head deadline and the connection cap."""
    if kind == "httptools":
        from hyperpage.serverlimits_httptools import bounded_httptools  # imports httptools, which may be absent

        return bounded_httptools(
            header_timeout=header_timeout, max_connections=max_connections, max_header_bytes=max_header_bytes
        )
    return bounded_h11(
        header_timeout=header_timeout, max_connections=max_connections, max_header_bytes=max_header_bytes
    )


def bounded_h11(*, header_timeout: float, max_connections: int, max_header_bytes: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline, a cap on open connections and a 431 for big heads.

    The head size limit itself is h11's: the uvicorn config must pass `h11_max_incomplete_event_size` equal to
    `max_header_bytes` (server.build_config does).
    """

    class BoundedH11Protocol(GuardedConnection, H11Protocol):
        guard = ConnectionGuard(max_connections=max_connections, header_timeout=header_timeout)

        def data_received(self, data: bytes) -> None:
            if self._deadline is not None and self._awaiting_head():
                self._deadline.start()
            super().data_received(data)
            if self._deadline is not None and not self._awaiting_head():
                self._deadline.stop()

        def _awaiting_head(self) -> bool:
            # h11 moves the client out of IDLE once a whole request head has been parsed
            return self.conn.their_state is h11.IDLE

        def send_400_response(self, msg: str) -> None:
            # h11 raises "Receive buffer too long" (error_status_hint=431) and keeps the buffer; uvicorn turns
            # every parse error into a 400, so the oversized head is recognised by what is still buffered
            if len(self.conn.trailing_data[0]) > max_header_bytes:
                self.transport.write(head_too_large_response(self.server_state.default_headers))
                self.transport.close()
                return
            super().send_400_response(msg)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # the next request head gets its own deadline from its first byte; until then keep-alive rules
            if self._deadline is not None and self._awaiting_head():
                self._deadline.stop()

    return BoundedH11Protocol
