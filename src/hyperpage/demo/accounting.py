"""Per-token quotas and per-route request counters: what the fake upstream charges and what it saw.

Quota windows behave like GitHub's: a token's window opens at its first counted request and the full
allowance comes back when `reset` passes. Tests drive time through the injectable clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


def token_key(token: str) -> str:
    """A stable label for a token that does not reveal it (stats and logs never carry token values)."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass
class Bucket:
    limit: int
    window: int
    remaining: int
    reset_at: float | None = None

    def refresh(self, now: float) -> None:
        if self.reset_at is None or now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + self.window

    @property
    def used(self) -> int:
        return self.limit - self.remaining

    @property
    def reset_epoch(self) -> int:
        return math.ceil(self.reset_at or 0)

    def as_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining, "reset": self.reset_epoch}


class QuotaBook:
    """Buckets keyed by (service, token label, resource)."""

    def __init__(self, clock: Callable[[], float], limits: dict[tuple[str, str], tuple[int, int]]) -> None:
        self.clock = clock
        self.limits = limits  # (service, resource) -> (limit, window seconds)
        self.buckets: dict[tuple[str, str, str], Bucket] = {}

    def bucket(self, service: str, token: str, resource: str) -> Bucket:
        key = (service, token_key(token), resource)
        bucket = self.buckets.get(key)
        if bucket is None:
            limit, window = self.limits[(service, resource)]
            bucket = self.buckets[key] = Bucket(limit=limit, window=window, remaining=limit)
        bucket.refresh(self.clock())
        return bucket

    def charge(self, service: str, token: str, resource: str) -> Bucket:
        bucket = self.bucket(service, token, resource)
        bucket.remaining = max(0, bucket.remaining - 1)
        return bucket

    def set_remaining(self, service: str, token: str, resource: str, remaining: int) -> Bucket:
        bucket = self.bucket(service, token, resource)
        bucket.remaining = max(0, min(bucket.limit, remaining))
        return bucket

    def snapshot(self) -> dict[str, dict[str, dict[str, dict[str, int]]]]:
        out: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
        now = self.clock()
        for (service, label, resource), bucket in sorted(self.buckets.items()):
            bucket.refresh(now)
            out.setdefault(service, {}).setdefault(label, {})[resource] = bucket.as_dict()
        return out

    def clear(self) -> None:
        self.buckets.clear()


class RequestStats:
    """Counts of requests by (service, route template, method, status) and 304s / quota charged per service."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str, int]] = Counter()
        self.charged: Counter[str] = Counter()
        self.in_flight: Counter[tuple[str, str]] = Counter()
        self.max_in_flight: Counter[tuple[str, str]] = Counter()

    def enter(self, service: str, token: str) -> int:
        key = (service, token_key(token))
        self.in_flight[key] += 1
        self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
        return self.in_flight[key]

    def leave(self, service: str, token: str) -> None:
        self.in_flight[(service, token_key(token))] -= 1

    def record(self, service: str, route: str, method: str, status: int) -> None:
        self.requests[(service, route, method, status)] += 1

    def count(
        self, service: str | None = None, route: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        return sum(
            n
            for (s, r, m, st), n in self.requests.items()
            if (service is None or s == service)
            and (route is None or r == route)
            and (method is None or m == method)
            and (status is None or st == status)
        )

    def snapshot(self) -> dict[str, object]:
        rows = [
            {"service": s, "route": r, "method": m, "status": st, "count": n}
            for (s, r, m, st), n in sorted(self.requests.items())
        ]
        peaks: dict[str, dict[str, int]] = {}
        for (service, label), peak in sorted(self.max_in_flight.items()):
            peaks.setdefault(service, {})[label] = peak
        return {
            "requests": rows,
            "total": sum(self.requests.values()),
            "not_modified": self.count(status=304),
            "quota_charged": dict(self.charged),
            "max_in_flight": peaks,
        }

    def clear(self) -> None:
        self.requests.clear()
        self.charged.clear()
        self.max_in_flight.clear()
