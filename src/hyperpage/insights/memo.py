"""The insights reports computed once per filter and data version, shared by the API routes and the /insights page.

A report takes a second or two of CPU over a large window. The API's answers sit in the response cache, but the
page renders per user and is not cached, so after each sync everyone opening it paid for the whole computation
again, all at once on a small box. Here each filter's pair of reports (DORA and cycle time, from one load of the
rows, service.reports) is kept for the current data version (db/changes.py), under the same rules as the
response cache: a new version empties the memo, a pair computed under an older one is not kept, no version
(PostgreSQL not listening, in-memory SQLite, HYPERPAGE_API_CACHE_MB=0) keeps nothing, and an entry is at most
HYPERPAGE_API_CACHE_MAX_AGE_SECONDS old, so an answer without `to` ("up to today") does not outlive its day by
more than that. The key is the resolved window, so `from` left out and `from` given as its default share one entry.

Single flight: concurrent requests for one filter await one computation. It runs in a task of its own, so a
client that goes away does not cancel it for the others; a failure is not kept and every waiter gets its error.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage.insights import service
from hyperpage.insights.schemas import CycleTimeReport, DoraReport, InsightsQuery

Reports = tuple[DoraReport, CycleTimeReport]


@dataclass(frozen=True, slots=True)
class _Entry:
    created: float
    value: Reports


class ReportMemo:
    """An LRU of report pairs bounded in entries and age, all made under one data version."""

    def __init__(self, *, max_entries: int, max_age: float) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._version: Hashable | None = None
        self._inflight: dict[tuple[Hashable, Hashable], asyncio.Task[Reports]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, version: Hashable | None, compute: Callable[[], Awaitable[Reports]]) -> Reports:
        if version is None or self.max_entries == 0:
            return await compute()
        if version != self._version:
            self._entries.clear()
            self._version = version
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.created <= self.max_age:
            self._entries.move_to_end(key)
            return entry.value
        flight = self._inflight.get((key, version))
        if flight is None:
            flight = asyncio.create_task(self._compute(key, version, compute), name="hyperpage-insights-report")
            flight.add_done_callback(_consume)
            self._inflight[(key, version)] = flight
        return await asyncio.shield(flight)

    async def _compute(self, key: Hashable, version: Hashable, compute: Callable[[], Awaitable[Reports]]) -> Reports:
        try:
            value = await compute()
        finally:
            del self._inflight[(key, version)]
        if version == self._version:  # else made under a version that is no longer current: maybe outdated
            self._entries.pop(key, None)
            self._entries[key] = _Entry(time.monotonic(), value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def _consume(task: asyncio.Task[Reports]) -> None:
    # every waiter may have gone away (clients disconnected): the error is theirs, not an unretrieved one
    if not task.cancelled():
        task.exception()


async def reports(state: Any, engine: AsyncEngine, query: InsightsQuery) -> Reports:
    """Both reports of a filter; `state` is the app's (settings, teams, data_changes, insights_memo)."""
    settings, teams = state.settings, state.teams
    today = datetime.now(UTC).date()  # one day for the key and the computation, even across midnight
    scope = service.scope_of(query, settings, today)
    service.authors_of(query, teams)  # an unknown team is refused here, and never takes a flight
    key = (scope.start, scope.end, query.repository, query.environment, query.author, query.team)
    memo: ReportMemo = state.insights_memo
    return await memo.get(
        key,
        state.data_changes.version(),
        lambda: service.reports(engine, query=query, settings=settings, teams=teams, today=today),
    )


async def dora(state: Any, engine: AsyncEngine, query: InsightsQuery) -> DoraReport:
    if state.data_changes.version() is None:  # nothing to share: skip the cycle-time half
        return await service.dora(engine, query=query, settings=state.settings, teams=state.teams)
    return (await reports(state, engine, query))[0]


async def cycle_time(state: Any, engine: AsyncEngine, query: InsightsQuery) -> CycleTimeReport:
    if state.data_changes.version() is None:  # nothing to share: skip what only DORA reads
        return await service.cycle_time(engine, query=query, settings=state.settings, teams=state.teams)
    return (await reports(state, engine, query))[1]
