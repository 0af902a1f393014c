"""GitHub Actions workflow runs and GitLab pipelines, normalised to one status/result model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, SyncedRow, synced_table_args


class PipelineStatus(StrEnum):
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class PipelineResult(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"


class Pipeline(SyncedRow, Base):
    __tablename__ = "pipelines"
    __table_args__ = synced_table_args(
        "pipelines",
        CheckConstraint("status IN ('QUEUED', 'IN_PROGRESS', 'DONE')", name="status"),
        CheckConstraint("result IS NULL OR result IN ('SUCCESS', 'FAILURE', 'CANCELLED', 'SKIPPED')", name="result"),
        Index("ix_pipelines_status_result", "status", "result"),
    )

    name: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    original_status: Mapped[str] = mapped_column(String(32))
    original_result: Mapped[str | None] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(1000))
    sha: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str | None] = mapped_column(String(64))
    web_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    duration_seconds: Mapped[float | None] = mapped_column(Float)
