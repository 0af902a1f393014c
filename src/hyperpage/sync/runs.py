"""Run records and job state: what a run did, where the next one starts, and when.

The high-water mark and validators move only after a successful run; a failed run records its error and
leaves every stored row in place (pages already written stay written). A PARTIAL run is a successful one
that left something out (a configured scope not found, items that could not be mapped or stored): its
cursor moves like a success's, and what it left out is recorded where a failure's error would be.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.issues.models import Issue
from hyperpage.logging import redact_text
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.leases import ClaimedJob
from hyperpage.sync.models import SyncReject, SyncRun, SyncState
from hyperpage.tools.base import ISSUES, PULL_REQUESTS, JobResult, Reject
from hyperpage.tools.http import QuotaSample, RequestStats

# Rows a full resync may prune when the upstream no longer lists them (deleted or moved out of scope).
PRUNABLE: dict[str, type[PullRequest] | type[Issue]] = {PULL_REQUESTS: PullRequest, ISSUES: Issue}
SAMPLE_EVERY = timedelta(seconds=60)


async def start_run(session: AsyncSession, *, job: ClaimedJob, worker: str, now: datetime) -> int:
    run = SyncRun(sync_state_id=job.id, worker=worker, status="RUNNING", started_at=now)
    session.add(run)
    await session.flush()
    return run.id


async def finish_run(
    session: AsyncSession,
    *,
    job: ClaimedJob,
    run_id: int,
    worker: str,
    now: datetime,
    duration: float,
    stats: RequestStats,
    result: JobResult | None,
    full: bool,
    error: str | None = None,
    retry_after: timedelta | None = None,
) -> None:
    """Close the run record, update the job (cursor on success, error on failure) and release the lease."""
    error = redact_text(error) if error is not None else None  # an upstream URL in it may carry user info
    left_out = partial_summary(result) if error is None else None
    status = "FAILED" if error else "PARTIAL" if left_out else "SUCCESS"
    await session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(
            status=status,
            finished_at=now,
            duration_seconds=duration,
            requests_made=stats.requests,
            not_modified=stats.not_modified,
            items_upserted=result.items_upserted if result else 0,
            items_rejected=len(result.rejects) if result else 0,
            error=error or left_out,
        )
    )
    next_run = job.claimed_at + timedelta(seconds=job.interval_seconds)
    if retry_after is not None:
        next_run = max(next_run, now + retry_after)
    values: dict[str, Any] = {"next_run_at": max(next_run, now)}
    if error is None and result is not None:
        values |= {
            "etag": result.etag,
            "last_modified": result.last_modified,
            "high_water_mark": result.high_water_mark,
            "last_success_at": now,
            "consecutive_failures": 0,
        }
        if full:
            values["last_full_sync_at"] = now
        if left_out:  # shown by the status page and `tools status` next to the success
            values |= {"last_error": left_out, "last_error_at": now}
    else:
        values |= {
            "last_error": error,
            "last_error_at": now,
            "consecutive_failures": SyncState.consecutive_failures + 1,
        }
    # Only our own lease is released: if it expired and another worker took the job, that one owns it now.
    await session.execute(
        update(SyncState)
        .where(SyncState.id == job.id, SyncState.lease_owner == worker)
        .values(**values, lease_owner=None, lease_expires_at=None)
    )


def partial_summary(result: JobResult | None) -> str | None:
    """What a successful run left out, in words (None when nothing)."""
    if result is None or not (result.problems or result.rejects):
        return None
    parts = []
    if result.problems:
        parts.append(f"{len(result.problems)} configured scope(s) not found: " + "; ".join(result.problems[:5]))
    if result.rejects:
        first = result.rejects[0]
        parts.append(
            f"{len(result.rejects)} item(s) rejected, kept in sync_rejects (first: {first.external_id}: {first.reason})"
        )
    return redact_text("partial: " + " | ".join(parts))[:2000]


async def record_rejects(
    session: AsyncSession, *, job: ClaimedJob, rejects: list[Reject], seen: set[str], now: datetime
) -> None:
    """Keep this run's rejected items (one row per job and item, counting sightings); drop the rows of
    items this run stored after all."""
    known = {
        r.external_id: r
        for r in (await session.scalars(select(SyncReject).where(SyncReject.sync_state_id == job.id))).all()
    }
    for reject in {r.external_id: r for r in rejects}.values():
        row = known.get(reject.external_id)
        if row is None:
            session.add(
                SyncReject(
                    sync_state_id=job.id,
                    external_id=reject.external_id,
                    reason=reject.reason,
                    payload=reject.payload,
                    first_seen_at=now,
                    last_seen_at=now,
                    times_seen=1,
                )
            )
        else:
            row.reason, row.payload, row.last_seen_at = reject.reason, reject.payload, now
            row.times_seen += 1
    stored = [row.id for external_id, row in known.items() if external_id in seen]
    if stored:
        await session.execute(delete(SyncReject).where(SyncReject.id.in_(stored)))


async def prune_unseen(session: AsyncSession, *, job: ClaimedJob, seen: set[str]) -> int:
    """After a successful full resync, drop rows of this scope that the upstream no longer lists."""
    model = PRUNABLE.get(job.resource)
    if model is None:
        return 0
    scope = [model.connection_id == job.connection_id]
    if job.scope:
        if job.repository_id is None:
            return 0
        scope.append(model.repository_id == job.repository_id)
    stored = (await session.execute(select(model.id, model.external_id).where(*scope))).all()
    gone = [row_id for row_id, external_id in stored if external_id not in seen]
    for start in range(0, len(gone), 500):
        await session.execute(delete(model).where(model.id.in_(gone[start : start + 500])))
    return len(gone)


async def record_samples(
    session: AsyncSession,
    *,
    connection_id: int,
    samples: dict[str, QuotaSample],
    written: dict[str, tuple[QuotaSample, datetime]],
    now: datetime,
) -> int:
    """Store the connection's latest quota per resource: when it changed, or at most once a minute.

    A sample already stored whose reset time has passed is dropped instead: its window is over, and writing
    it again with a new observed_at would make an old 429 look current when later responses carry no quota
    headers."""
    count = 0
    for resource, sample in list(samples.items()):
        last = written.get(resource)
        if last and last[0] == sample:
            if sample.reset_at is not None and sample.reset_at <= now:
                del samples[resource]
                continue
            if now - last[1] < SAMPLE_EVERY:
                continue
        session.add(
            RateLimitSample(
                connection_id=connection_id,
                resource=resource,
                limit=sample.limit,
                remaining=sample.remaining,
                reset_at=sample.reset_at,
                observed_at=now,
            )
        )
        written[resource] = (sample, now)
        count += 1
    return count
