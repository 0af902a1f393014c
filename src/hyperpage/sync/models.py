"""Per-job sync bookkeeping (cursors, leases, errors) and one row per sync run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, BigId
from hyperpage.tools.models import Connection


class SyncState(Base):
    """One sync job: a (connection, resource, scope) with its cursor, schedule and lease."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("connection_id", "resource", "scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(1000), default="")  # a repository full name
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    high_water_mark: Mapped[datetime | None] = mapped_column()
    last_full_sync_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column()
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint("status IN ('RUNNING', 'SUCCESS', 'PARTIAL', 'FAILED')", name="status"),
        Index("ix_sync_runs_sync_state_id_started_at", "sync_state_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_state_id: Mapped[int] = mapped_column(ForeignKey("sync_state.id", ondelete="CASCADE"))
    worker: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    requests_made: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    items_upserted: Mapped[int] = mapped_column(Integer, default=0)
    items_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)  # FAILED: why; PARTIAL: what was left out


class SyncReject(Base):
    """An upstream item a job could not map or store, kept as received so an operator can see why.

    One row per (job, item): a later run that meets the same item again bumps `times_seen`, and a run that
    stores the item after all (fixed upstream or fixed here) removes it."""

    __tablename__ = "sync_rejects"
    __table_args__ = (UniqueConstraint("sync_state_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_state_id: Mapped[int] = mapped_column(ForeignKey("sync_state.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))  # the upstream id, or "sha1:..." when it has none
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the item's JSON as received, cut at PAYLOAD_LIMIT
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    times_seen: Mapped[int] = mapped_column(Integer, default=1)


def per_connection_resource(*aggregates: Any) -> Select[Any]:
    """Sync jobs summed up per (tool, connection name, resource) -- the grain of the sync gauges and of
    `hyperpage tools` -- selecting those three, then `aggregates` over the group's jobs."""
    key = (Connection.tool, Connection.name, SyncState.resource)
    return (
        select(*key, *aggregates)
        .select_from(SyncState)
        .join(Connection, Connection.id == SyncState.connection_id)
        .group_by(*key)
    )
