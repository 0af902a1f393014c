"""The scheduler: claim due jobs through leases, run each in isolation, record the outcome.

One scheduler per process (`hyperpage worker`, or inside `hyperpage serve` on SQLite). Runs pass IDs and
open their own sessions; any failure (upstream error, malformed payload, a bug in a mapper) is recorded on
that job and the loop carries on.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperpage import metrics
from hyperpage.config import Settings
from hyperpage.db.base import utcnow
from hyperpage.db.session import session_scope
from hyperpage.logging import get_logger, redact_text
from hyperpage.sync import leases, maintenance, runs
from hyperpage.sync.connections import register_connections, register_repositories
from hyperpage.tools.base import REPOSITORIES, ConnectionSpec, JobContext, JobResult, ToolDefinition
from hyperpage.tools.errors import RateLimited, ToolError
from hyperpage.tools.http import RETRY_REASONS, ClientPool, RequestStats, UpstreamClient
from hyperpage.tools.registry import DEFAULT_TOOLS, configured_connections

log = get_logger(__name__)


@dataclass(frozen=True)
class RunReport:
    tool: str
    connection: str
    resource: str
    scope: str
    ok: bool
    requests: int
    not_modified: int
    items: int
    duration: float
    error: str | None


def worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        pool: ClientPool | None = None,
        tools: Sequence[ToolDefinition] = DEFAULT_TOOLS,
        specs: Sequence[ConnectionSpec] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.pool = pool or ClientPool(settings)
        self.tools = {t.slug: t for t in tools}
        self.specs = {(s.tool, s.name): s for s in (configured_connections(settings) if specs is None else specs)}
        self.clock = clock
        self.worker = worker_id()
        self.running: dict[int, asyncio.Task[RunReport]] = {}
        self.leased: set[int] = set()  # jobs whose lease this process must keep renewing
        self._stopping = asyncio.Event()
        self._prepared = False
        self._maintenance: asyncio.Task[maintenance.PruneOutcome] | None = None
        self._maintenance_check_at: datetime | None = None  # None: look at once

    async def prepare(self) -> None:
        """Write the configured connections and their jobs (idempotent; every replica may do it)."""
        async with session_scope(self.sessionmaker) as session:
            await register_connections(
                session=session,
                settings=self.settings,
                specs=list(self.specs.values()),
                tools=list(self.tools.values()),
                now=self.clock(),
            )
        self._zero_counters()
        self._prepared = True

    def _zero_counters(self) -> None:
        """Create the counters of configured tools at 0, so rate() and increase() see their first event."""
        for slug in {tool for tool, _name in self.specs}:
            for resource in self.tools[slug].resources:
                metrics.UPSTREAM_NOT_MODIFIED.labels(slug, resource)
                metrics.SYNC_ITEMS_UPSERTED.labels(slug, resource)
                metrics.SYNC_ITEMS_REJECTED.labels(slug, resource)
                for outcome in ("success", "partial", "failure"):
                    metrics.SYNC_RUNS.labels(slug, resource, outcome)
            for reason in RETRY_REASONS:
                metrics.UPSTREAM_RETRIES.labels(slug, reason)

    async def run_forever(self) -> None:
        """Claim and run due jobs until stop(); at most `sync_concurrent_jobs` at once."""
        if not self._prepared:
            await self.prepare()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping.is_set():
                free = self.settings.sync_concurrent_jobs - len(self.running)
                if free > 0:
                    await self._claim_and_start(free)
                self._start_maintenance_if_due()
                waiters = [*self.running.values(), asyncio.ensure_future(self._stopping.wait())]
                await asyncio.wait(
                    waiters, timeout=self.settings.sync_tick_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                waiters[-1].cancel()
        finally:
            # Awaited, not only cancelled: a task left mid-query would still be closing its session when the
            # engine is disposed, and its cleanup could then wait forever on a connection that is gone.
            helpers = [heartbeat, *([self._maintenance] if self._maintenance is not None else [])]
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def stop(self, grace: float) -> None:
        """Stop claiming; give maintenance and running jobs `grace` seconds, then cancel them (their leases
        run out). Waiting first matters: a task cancelled in the middle of an aiosqlite call can leave a close
        behind that never finishes (SQLAlchemy 2.1 + aiosqlite 0.22), and then the event loop cannot end."""
        self._stopping.set()
        # one wait for all, so the whole stop fits `grace`; a prune stops between batches (committed ones stay)
        tasks = [*self.running.values(), *([self._maintenance] if self._maintenance is not None else [])]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.pool.aclose()

    async def run_cycle(
        self,
        *,
        tool: str | None = None,
        resource: str | None = None,
        on_report: Callable[[RunReport], None] | None = None,
    ) -> list[RunReport]:
        """Run every matching job once now (discovery first, so new repositories are included)."""
        if not self._prepared:
            await self.prepare()
        done: list[int] = []
        reports: list[RunReport] = []
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                async with self.sessionmaker() as session:
                    batch = await leases.claim_due(
                        session,
                        worker=self.worker,
                        now=self.clock(),
                        limit=self.settings.sync_concurrent_jobs,
                        lease_seconds=self.settings.sync_lease_seconds,
                        force=True,
                        tool=tool,
                        resource=resource,
                        exclude=done,
                    )
                if not batch:
                    return reports
                done.extend(job.id for job in batch)
                for report in await asyncio.gather(*(self.run_job(job) for job in batch)):
                    reports.append(report)
                    if on_report:
                        on_report(report)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    def _start_maintenance_if_due(self) -> None:
        if self._stopping.is_set():  # stop() may already have cancelled and awaited the last one
            return
        if self._maintenance is not None and not self._maintenance.done():
            return
        if self._maintenance_check_at is not None and self.clock() < self._maintenance_check_at:
            return
        self._maintenance = asyncio.create_task(self.maintain())

    async def maintain(self) -> maintenance.PruneOutcome:
        """Prune old rate-limit samples if it is this worker's turn (at most one worker per hour)."""
        outcome = await maintenance.prune_if_due(
            sessionmaker=self.sessionmaker,
            settings=self.settings,
            worker=self.worker,
            now=self.clock(),
            should_stop=self._stopping.is_set,
        )
        self._maintenance_check_at = outcome.next_check_at
        return outcome

    async def _claim_and_start(self, limit: int) -> None:
        try:
            async with self.sessionmaker() as session:
                batch = await leases.claim_due(
                    session,
                    worker=self.worker,
                    now=self.clock(),
                    limit=limit,
                    lease_seconds=self.settings.sync_lease_seconds,
                )
        except Exception:  # the database may be restarting; try again next tick
            log.exception("sync_claim_failed")
            return
        for job in batch:
            task = asyncio.create_task(self.run_job(job))
            self.running[job.id] = task
            task.add_done_callback(functools.partial(self._forget, job.id))

    async def _heartbeat(self) -> None:
        period = self.settings.sync_lease_seconds / 3
        while True:
            await asyncio.sleep(period)
            try:
                async with self.sessionmaker() as session:
                    until = self.clock() + timedelta(seconds=self.settings.sync_lease_seconds)
                    await leases.renew(session, worker=self.worker, job_ids=list(self.leased), until=until)
            except Exception:
                log.exception("sync_lease_renew_failed")

    def _forget(self, job_id: int, _task: asyncio.Task[RunReport]) -> None:
        self.running.pop(job_id, None)

    async def run_job(self, job: leases.ClaimedJob) -> RunReport:
        """Run one claimed job and record it; never raises (except on cancellation)."""
        tool = self.tools[job.tool]
        spec = self.specs.get((job.tool, job.connection))
        now = self.clock()
        started = time.perf_counter()
        full = (
            job.high_water_mark is None
            or job.last_full_sync_at is None
            or now - job.last_full_sync_at >= timedelta(seconds=self.settings.sync_full_resync_seconds)
        )
        self.leased.add(job.id)
        try:
            async with session_scope(self.sessionmaker) as session:
                run_id = await runs.start_run(session, job=job, worker=self.worker, now=now)
        except BaseException:
            self.leased.discard(job.id)
            raise
        error: str | None = None
        retry_after: timedelta | None = None
        result: JobResult | None = None
        client = tool.make_client(spec, self.pool) if spec else None
        ctx: JobContext | None = None
        try:
            if spec is None or client is None:
                raise ToolError(f"connection {job.tool}/{job.connection} is no longer configured")
            ctx = JobContext(
                **job.target_fields(),
                settings=self.settings,
                sessionmaker=self.sessionmaker,
                connection_id=job.connection_id,
                spec=spec,
                client=client,
                full=full,
                now=now,
            )
            result = await tool.run(ctx)
            async with session_scope(self.sessionmaker) as session:
                if job.resource == REPOSITORIES:
                    await register_repositories(
                        session=session,
                        settings=self.settings,
                        connection_id=job.connection_id,
                        tool=tool,
                        repositories=result.discovered or [],
                        now=now,
                    )
                elif full and not result.not_modified:
                    await runs.prune_unseen(session, job=job, seen=ctx.seen)
        except RateLimited as exc:
            error, retry_after = str(exc), exc.retry_after
        except ToolError as exc:
            error = str(exc)
        except asyncio.CancelledError:
            error = "cancelled (worker stopping)"
            raise
        except Exception as exc:  # a bug or an unexpected shape must not take the worker down
            log.exception("sync_job_crashed", **job.log_fields())
            error = redact_text(f"internal error: {type(exc).__name__}: {exc}")[:500]
        finally:
            duration = time.perf_counter() - started
            stats = ctx.stats if ctx else None
            try:
                await self._finish(
                    job, run_id, client, stats, result, full, error, retry_after, duration, ctx.seen if ctx else set()
                )
            finally:
                self.leased.discard(job.id)
        return RunReport(
            job.tool,
            job.connection,
            job.resource,
            job.scope,
            error is None,
            stats.requests if stats else 0,
            stats.not_modified if stats else 0,
            result.items_upserted if result and not error else 0,
            duration,
            error or runs.partial_summary(result),
        )

    async def _finish(
        self,
        job: leases.ClaimedJob,
        run_id: int,
        client: UpstreamClient | None,
        stats: RequestStats | None,
        result: JobResult | None,
        full: bool,
        error: str | None,
        retry_after: timedelta | None,
        duration: float,
        seen: set[str],
    ) -> None:
        left_out = runs.partial_summary(result) if not error else None
        outcome = "failure" if error else "partial" if left_out else "success"
        metrics.SYNC_RUNS.labels(job.tool, job.resource, outcome).inc()
        if result and result.rejects:
            metrics.SYNC_ITEMS_REJECTED.labels(job.tool, job.resource).inc(len(result.rejects))
        metrics.SYNC_RUN_DURATION.labels(job.tool, job.resource).observe(duration)
        if result and result.items_upserted:
            metrics.SYNC_ITEMS_UPSERTED.labels(job.tool, job.resource).inc(result.items_upserted)
        stats = stats or RequestStats()
        try:
            async with session_scope(self.sessionmaker) as session:
                await runs.finish_run(
                    session,
                    job=job,
                    run_id=run_id,
                    worker=self.worker,
                    now=self.clock(),
                    duration=duration,
                    stats=stats,
                    result=result,
                    full=full,
                    error=error,
                    retry_after=retry_after,
                )
                if result is not None and error is None:
                    await runs.record_rejects(session, job=job, rejects=result.rejects, seen=seen, now=self.clock())
                if client is not None:
                    await runs.record_samples(
                        session,
                        connection_id=job.connection_id,
                        samples=client.samples,
                        written=client.samples_written,
                        now=self.clock(),
                    )
        except Exception:  # the lease runs out and another run retries; the loop goes on
            log.exception("sync_finish_failed", **job.log_fields())
        event = log.warning if error else log.info
        event(
            "sync_run",
            **job.log_fields(),
            outcome=outcome,
            full=full,
            requests=stats.requests,
            not_modified=stats.not_modified,
            items=result.items_upserted if result else 0,
            duration_s=round(duration, 3),
            error=error or left_out,
        )
