"""Jira issues next to GitHub and GitLab issues, with a normalised status category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, BigId


class StatusCategory(StrEnum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        CheckConstraint("status_category IN ('TODO', 'IN_PROGRESS', 'DONE')", name="status_category"),
        Index("ix_issues_updated_at_id", "updated_at", "id"),
        Index("ix_issues_status_category_updated_at", "status_category", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    repository_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id", ondelete="SET NULL"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
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
    synced_at: Mapped[datetime] = mapped_column()
