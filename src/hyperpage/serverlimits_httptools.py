"""uvicorn's httptools protocol with the guards bounded_h11 has (serverlimits.py), its head size limit included.

httptools (llhttp) has no limit on a request head: it hands the protocol the URL piece by piece (`on_url`) but
concatenates each header value until it is complete (httptools/parser/parser.pyx, `_on_header_value`), so a
single endless header grows in memory. Two counts bound it here:
- the exact one: when the head is complete (`on_headers_complete`), its size is rebuilt from what was parsed,
  "METHOD SP target SP HTTP/1.1 CRLF" plus "name: value CRLF" per header plus the final CRLF, i.e. the bytes of a
  canonically written head; over `max_header_bytes` it is refused before the app sees it;
- the memory bound: while a head is still incomplete, every byte received for it is counted (at most one read
  is uncounted: the one in which the previous request ended), and over the limit the head is refused at once.
A refused head is answered 431 (RFC 6585 §5) and the connection closed, as the h11 protocol does.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hyperpage.serverlimits import ConnectionGuard, GuardedConnection, head_too_large_response

REQUEST_LINE_FRAMING = len(b"  HTTP/1.1\r\n")  # the spaces around the target, the version and the line end
HEADER_FRAMING = len(b": \r\n")
END_OF_HEAD = len(b"\r\n")


class HeadTooLarge(Exception):
    """Raised in a parser callback: llhttp stops, and uvicorn's data_received calls send_400_response."""


def bounded_httptools(*, header_timeout: float, max_connections: int, max_header_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with a head size limit, a head deadline and a cap on open connections."""

    class BoundedHttpToolsProtocol(GuardedConnection, HttpToolsProtocol):
        guard = ConnectionGuard(max_connections=max_connections, header_timeout=header_timeout)
        _reading_head = True  # from the connection's start, and from each request's end to the next head's end
        _head_bytes = 0  # bytes received while the head was incomplete
        _head_size = 0  # the head rebuilt from the parsed URL and headers, without the method
        _head_refused = False

        def data_received(self, data: bytes) -> None:
            if self._reading_head:
                self._head_bytes += len(data)
                if self._deadline is not None and self._awaiting_head():
                    self._deadline.start()
            super().data_received(data)
            if self._reading_head and self._head_bytes > max_header_bytes and not self.transport.is_closing():
                self._refuse_head()
            elif self._deadline is not None and not self._awaiting_head():
                self._deadline.stop()

        def _awaiting_head(self) -> bool:
            # a head is awaited only while no response is being produced: the deadline must not cut a slow
            # response short (the next head of a pipelining client waits in the parser meanwhile)
            return self._reading_head and (self.cycle is None or self.cycle.response_complete)

        def _refuse_head(self) -> None:
            if self.cycle is None or self.cycle.response_complete:  # else a response is half written: just close
                self.transport.write(head_too_large_response(self.server_state.default_headers))
            self.transport.close()

        def send_400_response(self, msg: str) -> None:
            if self._head_refused:
                self._refuse_head()
                return
            super().send_400_response(msg)

        # parser callbacks (httptools calls them by name during feed_data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_size = 0

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            self._head_size += len(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self._head_size += len(name) + len(value) + HEADER_FRAMING

        def on_headers_complete(self) -> None:
            size = len(self.parser.get_method()) + REQUEST_LINE_FRAMING + self._head_size + END_OF_HEAD
            if size > max_header_bytes:
                self._head_refused = True
                raise HeadTooLarge(f"request head of {size} bytes")
            self._reading_head, self._head_bytes = False, 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_head, self._head_bytes = True, 0

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # the next request head gets its own deadline from its first byte; until then keep-alive rules
            if self._deadline is not None and self._awaiting_head():
                self._deadline.stop()

    return BoundedHttpToolsProtocol
