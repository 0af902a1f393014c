"""Switchable faults: which requests fail, how, and for how many more requests.

A fault matches a service ("github", "gitlab", "jira" or "*"), a glob on the path below the service's
prefix (e.g. "/repos/*/pulls") and a method; it fires for the next `count` matching requests (None = until
cleared). Each service renders the fault in its own real wire format (see the service modules).
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass

KINDS = ("rate_limit", "secondary_rate_limit", "server_error", "timeout", "malformed_json")


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    id: int
    kind: str
    service: str = "*"
    path: str = "*"
    method: str = "*"
    count: int | None = 1
    # rate_limit / secondary_rate_limit: seconds announced in Retry-After (or until x-ratelimit-reset).
    retry_after: int = 60
    # secondary_rate_limit only: "retry_after" sends a retry-after header; "remaining_zero" sends
    # x-ratelimit-remaining: 0 with a reset time instead, the two forms GitHub documents.
    mode: str = "retry_after"
    # secondary_rate_limit: 403 (GitHub's usual answer) or 429 (also documented).
    status: int = 0
    # timeout: how long the response is held back before being sent.
    delay: float = 30.0
    fired: int = 0

    def matches(self, service: str, path: str, method: str) -> bool:
        return (
            self.service in ("*", service)
            and fnmatch.fnmatchcase(path, self.path)
            and self.method.upper() in ("*", method.upper())
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class FaultBook:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind: str,
        *,
        service: str = "*",
        path: str = "*",
        method: str = "*",
        count: int | None = 1,
        retry_after: int = 60,
        mode: str = "retry_after",
        status: int = 0,
        delay: float = 30.0,
    ) -> Fault:
        if kind not in KINDS:
            raise FaultError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if service not in ("*", "github", "gitlab", "jira"):
            raise FaultError(f"unknown service {service!r}")
        if mode not in ("retry_after", "remaining_zero"):
            raise FaultError(f"unknown mode {mode!r}")
        if count is not None and count < 1:
            raise FaultError("count must be at least 1 (or null for until cleared)")
        if kind == "server_error" and status == 0:
            status = 500
        if kind == "server_error" and not 500 <= status <= 599:
            raise FaultError("server_error status must be 5xx")
        if kind == "secondary_rate_limit" and status not in (0, 403, 429):
            raise FaultError("secondary_rate_limit status must be 403 or 429")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            service=service,
            path=path,
            method=method,
            count=count,
            retry_after=retry_after,
            mode=mode,
            status=status or (403 if kind == "secondary_rate_limit" else 0),
            delay=delay,
        )
        self.faults.append(fault)
        return fault

    def take(self, service: str, path: str, method: str) -> Fault | None:
        """The first active fault matching this request, consuming one of its shots."""
        for fault in self.faults:
            if fault.matches(service, path, method):
                fault.fired += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def clear(self, service: str | None = None) -> int:
        before = len(self.faults)
        self.faults = [f for f in self.faults if service is not None and f.service != service]
        return before - len(self.faults)

    def snapshot(self) -> list[dict[str, object]]:
        return [f.as_dict() for f in self.faults]
