"""Response cache of the list and insights endpoints: dashboards poll the same few pages, and data changes only
when a sync commits.

An entry is a whole 200 response (body, ETag, cache headers) keyed by path and raw query string. The cache holds
entries of one data version only (db/changes.py): the first request that sees a new version empties it, and a
response computed under an older version is not stored. A hit therefore costs no database round trip, no
parameter validation and no serialisation, and is never older than the data. These responses do not depend on
the caller (no admin-only fields), so `Authorization` is not part of the key; the cache sits inside the auth gate
(main.py), so an entry is replayed only to callers the gate let in. An insights answer without `to` covers the
days up to today (UTC): one made just before midnight is replayed at most the entries' max age after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperpage import metrics
from hyperpage.api.caching import etag_matches
from hyperpage.db.changes import DataChanges

CACHED_PATHS = frozenset(
    {"/api/v1/reviews", "/api/v1/pipelines", "/api/v1/issues", "/api/v1/insights/dora", "/api/v1/insights/cycle-time"}
)
ENTRY_OVERHEAD = 600  # bytes of key, headers and bookkeeping per entry, beyond the body
_NOT_MODIFIED_HEADERS = frozenset({b"etag", b"cache-control", b"vary"})
# each outcome's child resolved once: .labels() per request was a measurable share of a hit
_OUTCOMES = {result: metrics.API_CACHE.labels(result) for result in ("hit", "miss", "shared", "bypass")}


@dataclass(frozen=True, slots=True)
class Entry:
    created: float
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    route: Any  # the matched route, so metrics label a hit like the request it replays
    key_bytes: int = 0  # the query string is part of the key, and a client chooses its length

    @property
    def size(self) -> int:
        return len(self.body) + self.key_bytes + ENTRY_OVERHEAD


class ResponseCache:
    """An LRU of entries bounded in bytes and age, all made under `version`."""

    def __init__(self, *, max_bytes: int, max_age: float) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._entries: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()
        self._bytes = 0
        self._version: Hashable | None = None

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, bytes], version: Hashable) -> Entry | None:
        if version != self._version:
            self.clear()
            self._version = version
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry.created > self.max_age:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, bytes], entry: Entry, version: Hashable) -> None:
        # made under a version that is no longer current: its rows may already be outdated
        if version != self._version or entry.size > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        metrics.API_CACHE_BYTES.set(self._bytes)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        metrics.API_CACHE_BYTES.set(0)

    def _drop(self, key: tuple[str, bytes]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp, cache: ResponseCache, changes: DataChanges) -> None:
        self.app = app
        self.cache = cache
        self.changes = changes
        # Single flight: when a change empties the cache, every poller misses at once; one request per page
        # runs the query and the others wait for its answer instead of piling onto the database.
        self._inflight: dict[tuple[tuple[str, bytes], Hashable], asyncio.Future[Entry | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] not in CACHED_PATHS
            or not self.cache.enabled
        ):
            await self.app(scope, receive, send)
            return
        version = self.changes.version()  # read before the query runs: the entry is only as new as this
        if version is None:
            _OUTCOMES["bypass"].inc()
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        flight_key = (key, version)
        entry, result = self.cache.get(key, version), "hit"
        if entry is None and (leader := self._inflight.get(flight_key)) is not None:
            entry, result = await asyncio.shield(leader), "shared"
        if entry is not None:
            _OUTCOMES[result].inc()
            scope["route"] = entry.route
            await _replay(entry, _if_none_match(scope), send)
            return
        _OUTCOMES["miss"].inc()
        flight: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._inflight[flight_key] = flight
        entry = None
        try:
            entry, messages = await self._compute(scope, receive)
        finally:
            del self._inflight[flight_key]
            flight.set_result(entry)  # None (failed, not cacheable): each waiter asks the app itself
        if entry is None:
            for message in messages:
                await send(message)
            return
        self.cache.put(key, entry, version)
        await _replay(entry, _if_none_match(scope), send)

    async def _compute(self, scope: Scope, receive: Receive) -> tuple[Entry | None, list[Message]]:
        # Ask for the full body even when the client revalidates: most dashboard polls are conditional, and a
        # 304 from the app would leave nothing to store.
        inner = dict(scope, headers=[h for h in scope.get("headers", []) if h[0] != b"if-none-match"])
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(inner, receive, capture)
        if "route" in inner:
            scope["route"] = inner["route"]
        if not messages or messages[0]["status"] != 200:
            return None, messages
        return _entry_of(messages, inner.get("route"), len(scope.get("query_string", b""))), messages


def _entry_of(messages: list[Message], route: Any, key_bytes: int) -> Entry | None:
    start, bodies = messages[0], messages[1:]
    if any(m.get("more_body") for m in bodies):  # streamed: not a page we can hold
        return None
    headers = list(start.get("headers", []))
    etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
    if etag is None or any(k.lower() == b"set-cookie" for k, _ in headers):
        return None
    body = b"".join(m.get("body", b"") for m in bodies)
    return Entry(time.monotonic(), headers, body, etag, route, key_bytes)


def _if_none_match(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"if-none-match":
            tag: str = value.decode("latin-1")
            return tag
    return None


async def _replay(entry: Entry, if_none_match: str | None, send: Send) -> None:
    if etag_matches(if_none_match, entry.etag):
        headers = [(k, v) for k, v in entry.headers if k.lower() in _NOT_MODIFIED_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": list(entry.headers)})
    await send({"type": "http.response.body", "body": entry.body})
