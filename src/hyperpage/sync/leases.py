"""Job leases in the database, so any number of workers run each job once at a time.

PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` picks due jobs no other worker is claiming, and the lease
(owner + expiry) written in the same transaction keeps them ours until the run ends or the lease expires.
A killed worker's lease simply runs out and the job is claimed again. SQLite ignores FOR UPDATE; there the
lease is taken with a compare-and-set UPDATE under SQLite's single writer lock, so several processes
(`serve --workers N`) still never share a job.

Cluster-wide periodic tasks (retention) belong to no connection, so their lease is an app_state row
holding the next due time, claimed with a compare-and-set on the row's updated_at (on both engines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperpage.db.app_state import AppState
from hyperpage.db.upsert import upsert
from hyperpage.sync.models import SyncRun, SyncState
from hyperpage.tools.base import REPOSITORIES, JobTarget
from hyperpage.tools.models import Connection, Repository, ToolConfig


@dataclass(frozen=True)
class ClaimedJob(JobTarget):
    id: int
    connection_id: int
    tool: str
    connection: str
    last_full_sync_at: datetime | None
    interval_seconds: int
    next_run_at: datetime
    claimed_at: datetime

    def log_fields(self) -> dict[str, str]:
        """Which job a log event is about, the same four fields in every event of a run."""
        return {"tool": self.tool, "connection": self.connection, "resource": self.resource, "scope": self.scope}


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    force: bool = False,
    tool: str | None = None,
    resource: str | None = None,
    exclude: Sequence[int] = (),
) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs (all matching ones when `force`) and commit; discovery jobs first."""
    free = or_(SyncState.lease_expires_at.is_(None), SyncState.lease_expires_at < now)
    # An admin may switch a whole tool off (tool_configs.enabled) without touching the configuration.
    conditions = [Connection.enabled.is_(True), free, or_(ToolConfig.enabled.is_(None), ToolConfig.enabled.is_(True))]
    due = SyncState.next_run_at <= now
    if force:
        # A forced cycle re-runs discovery only when it is due or never succeeded: listing repositories
        # is not conditional, and a manual cycle should cost no more quota than a scheduled one.
        due = or_(SyncState.resource != REPOSITORIES, due, SyncState.last_success_at.is_(None))
    conditions.append(due)
    if tool:
        conditions.append(Connection.tool == tool)
    if resource:
        conditions.append(SyncState.resource.in_((resource, REPOSITORIES)))
    if exclude:
        conditions.append(SyncState.id.not_in(list(exclude)))
    stmt = (
        select(
            SyncState,
            Connection.tool,
            Connection.name,
            Repository.id,
            Repository.external_id,
            ToolConfig.interval_seconds,
        )
        .join(Connection, Connection.id == SyncState.connection_id)
        .outerjoin(ToolConfig, ToolConfig.tool == Connection.tool)
        .outerjoin(
            Repository,
            and_(
                Repository.connection_id == SyncState.connection_id,
                Repository.full_name == SyncState.scope,
                SyncState.scope != "",
            ),
        )
        .where(*conditions)
        .order_by(case((SyncState.resource == REPOSITORIES, 0), else_=1), SyncState.next_run_at, SyncState.id)
        .limit(limit)
        .with_for_update(of=SyncState, skip_locked=True)
    )
    rows = (await session.execute(stmt)).all()
    expires = now + timedelta(seconds=lease_seconds)
    claimed: list[ClaimedJob] = []
    for state, tool_slug, conn_name, repo_id, repo_external, override_interval in rows:
        if any(job.id == state.id for job in claimed):
            continue  # two repository rows with one name (a repository re-created upstream): claim once
        # Compare-and-set: only if the job is still free and not run meanwhile. PostgreSQL's row lock already
        # guarantees that; on SQLite it is what keeps two processes (serve --workers) from sharing a job.
        # an UPDATE's result is a CursorResult (it has the rowcount); execute() is typed for any statement
        won = cast(
            CursorResult[Any],
            await session.execute(
                update(SyncState)
                .where(SyncState.id == state.id, free, SyncState.next_run_at == state.next_run_at)
                .values(lease_owner=worker, lease_expires_at=expires)
                .execution_options(synchronize_session=False)
            ),
        )
        if won.rowcount != 1:
            continue
        if state.lease_owner is not None:  # its worker died mid-run: close that run's record
            await session.execute(
                update(SyncRun)
                .where(SyncRun.sync_state_id == state.id, SyncRun.status == "RUNNING")
                .values(status="FAILED", finished_at=now, error=f"lease of {state.lease_owner} expired")
            )
        claimed.append(
            ClaimedJob(
                id=state.id,
                connection_id=state.connection_id,
                tool=tool_slug,
                connection=conn_name,
                resource=state.resource,
                scope=state.scope,
                repository_id=repo_id,
                repository_external_id=repo_external,
                etag=state.etag,
                last_modified=state.last_modified,
                high_water_mark=state.high_water_mark,
                last_full_sync_at=state.last_full_sync_at,
                interval_seconds=_interval(state, override_interval),
                next_run_at=state.next_run_at,
                claimed_at=now,
            )
        )
    await session.commit()
    return claimed


def _interval(state: SyncState, override: int | None) -> int:
    """The admin's per-tool interval (tool_configs) wins over the settings, except for repository discovery."""
    if override and state.resource != REPOSITORIES:
        return override
    return state.interval_seconds


async def renew(session: AsyncSession, *, worker: str, job_ids: Sequence[int], until: datetime) -> None:
    """Extend our leases while runs are still going (a run may outlast one lease period)."""
    if job_ids:
        await session.execute(
            update(SyncState)
            .where(SyncState.id.in_(list(job_ids)), SyncState.lease_owner == worker)
            .values(lease_expires_at=until)
        )
        await session.commit()


@dataclass(frozen=True)
class PeriodicClaim:
    won: bool
    next_run_at: datetime  # when the task is due again (when to look again, for those who did not win)


async def claim_periodic(
    session: AsyncSession, *, key: str, worker: str, now: datetime, every: timedelta
) -> PeriodicClaim:
    """Claim the cluster-wide task `key` if it is due, making it due again `every` later; commit.

    At most one worker wins per period: the next due time is written in the claim itself, so the holder
    needs no renewal as long as its run stays shorter than `every`."""
    await upsert(session, AppState.__table__, [{"key": key, "value": {}, "updated_at": now}], key=("key",), update=())
    row = await session.scalar(select(AppState).where(AppState.key == key).execution_options(populate_existing=True))
    if row is None:  # deleted by hand between the two statements; look again soon
        await session.rollback()
        return PeriodicClaim(False, now + min(every, timedelta(minutes=1)))
    due_at = row.value.get("next_run_at")
    if due_at and datetime.fromisoformat(due_at) > now:
        await session.rollback()
        return PeriodicClaim(False, datetime.fromisoformat(due_at))
    next_run = now + every
    # Whoever wrote first changed updated_at; the others' UPDATE then matches nothing (PostgreSQL re-checks
    # the condition on the row after waiting for the first writer's commit).
    # a fresh record, not merged into the last one: a run that fails must not show the previous run's results
    value = {"owner": worker, "claimed_at": now.isoformat(), "next_run_at": next_run.isoformat()}
    won = cast(
        CursorResult[Any],
        await session.execute(
            update(AppState)
            .where(AppState.key == key, AppState.updated_at == row.updated_at)
            .values(value=value, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    await session.commit()
    return PeriodicClaim(won.rowcount == 1, next_run)


async def finish_periodic(
    session: AsyncSession, *, key: str, worker: str, now: datetime, result: dict[str, object]
) -> None:
    """Record the outcome of our run of `key` (for operators reading app_state); commit."""
    row = await session.get(AppState, key)
    if row is not None and row.value.get("owner") == worker:
        row.value = {**row.value, "finished_at": now.isoformat(), **result}
        row.updated_at = now
    await session.commit()
