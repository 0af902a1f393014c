"""Jira issues next to GitHub and GitLab issues, with a normalised status category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, SyncedRow, synced_table_args


class StatusCategory(StrEnum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Issue(SyncedRow, Base):
    __tablename__ = "issues"
    __table_args__ = synced_table_args(
        "issues",
        CheckConstraint("status_category IN ('TODO', 'IN_PROGRESS', 'DONE')", name="status_category"),
        Index("ix_issues_status_category_updated_at", "status_category", "updated_at"),
    )

    key: Mapped[str] = mapped_column(String(1000), index=True)  # owner/repo#n, GitLab full reference
    title: Mapped[str] = mapped_column(Text)
    status_category: Mapped[str] = mapped_column(String(16))
    original_status: Mapped[str] = mapped_column(String(255))
    assignee: Mapped[str | None] = mapped_column(String(255), index=True)
    reporter: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[str | None] = mapped_column(String(64))
    issue_type: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[list[str]] = mapped_column(default=list)
    web_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
