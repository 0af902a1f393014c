"""Bounds on what one client can hold in the HTTP server: header bytes, header time, idle time, connections.

uvicorn bounds some of it and not the rest (uvicorn 0.54, uvicorn/protocols/http/h11_impl.py):
- header size: h11 refuses a request head longer than `max_incomplete_event_size` (h11 docs, "Flow control";
  uvicorn passes `h11_max_incomplete_event_size`). httptools, which uvicorn picks by default when installed,
  has no such limit, so the server is pinned to h11;
- idle time between requests: `timeout_keep_alive` starts only after a response, so a connection that never
  sends a byte, or sends a request head a byte at a time, is held forever (the "slowloris" attack);
- concurrency: `limit_concurrency` answers 503 once that many connections or tasks exist, but still
  accepts (and keeps) every further connection, each holding a file descriptor.

`bounded_h11` adds the two missing guards to uvicorn's own h11 protocol: every request head must be complete
within `header_timeout` seconds of the connection opening (or of its first byte, for a kept-alive connection),
and connections beyond `max_connections` are closed as soon as they are accepted.
"""

from __future__ import annotations

import asyncio
import time

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from hyperpage.logging import get_logger

log = get_logger(__name__)
REFUSAL_LOG_SECONDS = 10.0  # a flood of refused connections is one warning per interval, not one per connection


def bounded_h11(*, header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline and a cap on open connections."""

    refusals = {"count": 0, "logged_at": float("-inf")}

    class BoundedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's signature
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                refusals["count"] += 1
                if time.monotonic() - refusals["logged_at"] >= REFUSAL_LOG_SECONDS:
                    log.warning(
                        "connections_refused",
                        reason="too many open connections",
                        limit=max_connections,
                        refused=refusals["count"],
                    )
                    refusals["count"], refusals["logged_at"] = 0, time.monotonic()
                transport.abort()  # no FIN handshake to wait for: the descriptor is freed at once
                return
            self._start_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._awaiting_head():
                self._start_head_timer()  # kept no matter how many bytes trickle in: a deadline, not an idle timer
            super().data_received(data)
            if not self._awaiting_head():
                self._stop_head_timer()

        def _awaiting_head(self) -> bool:
            # h11 moves the client out of IDLE once a whole request head has been parsed
            return self.conn.their_state is h11.IDLE

        def _start_head_timer(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(header_timeout, self._head_timed_out)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self._awaiting_head() and not self.transport.is_closing():
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # the next request head gets its own deadline from its first byte; until then keep-alive rules
            if self._awaiting_head():
                self._stop_head_timer()

    return BoundedH11Protocol
