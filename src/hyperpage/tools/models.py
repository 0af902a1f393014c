"""Configured upstream connections, the repositories/projects they expose, and runtime tool overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, BigId, TimestampMixin

TOOLS = ("github", "gitlab", "jira")
_TOOL_CHECK = "tool IN ('github', 'gitlab', 'jira')"


class Connection(TimestampMixin, Base):
    """One configured upstream. Secrets are never stored here: they come from the environment or files."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("tool", "name"),
        CheckConstraint(_TOOL_CHECK, name="tool"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tool: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(500))
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Repository(TimestampMixin, Base):
    """A GitHub repository, GitLab project or Jira project seen through a connection."""

    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(1000), index=True)
    web_url: Mapped[str | None] = mapped_column(String(2048))
    default_branch: Mapped[str | None] = mapped_column(String(1000))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class ToolConfig(Base):
    """Runtime override of a tool's enabled flag or sync interval, set by an admin through the API."""

    __tablename__ = "tool_configs"
    __table_args__ = (CheckConstraint(_TOOL_CHECK, name="tool"),)

    tool: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column()
