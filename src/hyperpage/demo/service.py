"""The request pipeline every fake service shares: auth, faults, quota, handler, conditional GET, headers.

Order matters and mirrors the real services: authentication first (a bad token is a 401 whatever else is
going on), then injected faults, then the quota check, then the handler; a 304 is decided on the rendered
body so the ETag always describes exactly what a 200 would have sent.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hyperpage.demo.faults import Fault
from hyperpage.demo.httpkit import HttpProblem, Reply, http_date, not_modified, weak_etag
from hyperpage.demo.world import Person

if TYPE_CHECKING:
    from hyperpage.demo.upstream import FakeUpstream

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Identity:
    token: str  # the quota key: the credential presented (never rendered anywhere)
    person: Person


Handler = Callable[[Request, Identity], Reply]


class Service(ABC):
    name: str  # each API's own: its stats, quota and fault key ("github")
    prefix: str  # and the path it is served under ("/github")
    etag_length = 64

    @property
    def charges_304(self) -> bool:
        """Whether a 304 Not Modified answer costs rate limit (GitLab's is configurable)."""
        return False

    def __init__(self, upstream: FakeUpstream) -> None:
        self.up = upstream

    # Hooks each service implements in its own wire format.
    @abstractmethod
    def authenticate(self, request: Request) -> Identity | Response:
        """Implemented by each service in its own wire format."""

    def quota_response(self, ident: Identity, resource: str) -> Response | None:
        """A response when the quota is exhausted, else None."""
        return None

    def concurrency_response(self, ident: Identity, resource: str, depth: int) -> Response | None:
        """A response when this token has too many requests in flight, else None."""
        return None

    def charge(self, ident: Identity, resource: str) -> None:
        return None

    def rate_headers(self, ident: Identity, resource: str) -> dict[str, str]:
        return {}

    @abstractmethod
    def fault_response(self, fault: Fault, ident: Identity, resource: str) -> Response:
        """Implemented by each service in its own wire format."""

    @abstractmethod
    def problem_response(self, problem: HttpProblem) -> Response:
        """Implemented by each service in its own wire format."""

    def common_headers(self) -> dict[str, str]:
        return {}

    # The shared pipeline.
    def json(self, payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(orjson.dumps(payload), status_code=status, headers=headers, media_type=JSON)

    def route(self, path: str, handler: Handler, *, methods: Sequence[str] = ("GET",), resource: str = "core") -> Route:
        async def endpoint(request: Request) -> Response:
            response = await self.serve(request, handler, resource)
            with self.up.lock:
                self.up.stats.record(self.name, path, request.method, response.status_code)
            return response

        return Route(path, endpoint, methods=list(methods), name=f"{self.name}:{path}")

    async def serve_counted(self, request: Request, path: str, handler: Handler, resource: str = "core") -> Response:
        """For endpoints that must read the body (async) before building their handler."""
        response = await self.serve(request, handler, resource)
        with self.up.lock:
            self.up.stats.record(self.name, path, request.method, response.status_code)
        return response

    async def serve(self, request: Request, handler: Handler, resource: str) -> Response:
        sub_path = request.url.path.removeprefix(self.prefix) or "/"
        with self.up.lock:
            ident = self.authenticate(request)
            if isinstance(ident, Response):
                return ident
            depth = self.up.stats.enter(self.name, ident.token)
        try:
            with self.up.lock:
                refused = self.concurrency_response(ident, resource, depth)
                if refused is not None:
                    refused.headers.update(self.common_headers())
                    return refused
                fault = self.up.faults.take(self.name, sub_path, request.method)
            # A timeout fault holds the answer back, then sends it normally: a client with a shorter
            # timeout sees a timeout.
            delay = self.up.config.latency_seconds + (
                fault.delay if fault is not None and fault.kind == "timeout" else 0
            )
            if delay > 0:
                await asyncio.sleep(delay)
            with self.up.lock:
                if fault is not None and fault.kind not in ("timeout", "malformed_json"):
                    response = self.fault_response(fault, ident, resource)
                    response.headers.update(self.common_headers())
                    return response
                return self.answer(request, handler, ident, resource, fault)
        finally:
            with self.up.lock:
                self.up.stats.leave(self.name, ident.token)

    def answer(
        self, request: Request, handler: Handler, ident: Identity, resource: str, fault: Fault | None
    ) -> Response:
        exhausted = self.quota_response(ident, resource)
        if exhausted is not None:
            exhausted.headers.update(self.common_headers())
            return exhausted
        try:
            reply = handler(request, ident)
        except HttpProblem as problem:
            self.charge(ident, resource)
            response = self.problem_response(problem)
            response.headers.update({**self.rate_headers(ident, resource), **self.common_headers()})
            return response
        body = orjson.dumps(reply.payload)
        headers = {**self.common_headers(), **reply.headers}
        if reply.conditional and reply.status == 200:
            etag = weak_etag(body, self.etag_length)
            headers["etag"] = etag
            if reply.last_modified is not None:
                headers["last-modified"] = http_date(reply.last_modified)
            if not_modified(request, etag, reply.last_modified):
                if self.charges_304:
                    self.charge(ident, resource)
                headers.update(self.rate_headers(ident, resource))
                return Response(status_code=304, headers=headers)
        if reply.charge:
            self.charge(ident, resource)
        headers.update(self.rate_headers(ident, resource))
        if fault is not None and fault.kind == "malformed_json":
            # Cut mid-document: valid UTF-8, announced as JSON, unparseable.
            body = body[: max(1, len(body) // 2)] if len(body) > 2 else b'{"'
        return Response(body, status_code=reply.status, headers=headers, media_type=JSON)


def bearer_or_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer X` or `Authorization: token X` (GitHub accepts both)."""
    raw = request.headers.get("authorization", "")
    scheme, _, value = raw.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None
