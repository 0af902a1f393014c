"""GitHub pull requests and GitLab merge requests in one table and one state model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, SyncedRow, synced_table_args


class ReviewState(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    MERGED = "MERGED"


class PullRequest(SyncedRow, Base):
    __tablename__ = "pull_requests"
    __table_args__ = synced_table_args(
        "pull_requests",
        CheckConstraint("state IN ('OPEN', 'CLOSED', 'MERGED')", name="state"),
        Index("ix_pull_requests_state_updated_at", "state", "updated_at"),
    )

    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    original_state: Mapped[str] = mapped_column(String(32))
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str | None] = mapped_column(String(255), index=True)
    requested_reviewers: Mapped[list[str]] = mapped_column(default=list)
    labels: Mapped[list[str]] = mapped_column(default=list)
    source_branch: Mapped[str | None] = mapped_column(String(1000))
    target_branch: Mapped[str | None] = mapped_column(String(1000))
    merge_state: Mapped[str | None] = mapped_column(String(64))
    web_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    merged_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
