"""Upstream API quota observations: the latest per (connection, resource) is the current status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, BigId


class RateLimitSample(Base):
    __tablename__ = "rate_limit_samples"
    __table_args__ = (
        Index("ix_rate_limit_samples_connection_id_resource_observed_at", "connection_id", "resource", "observed_at"),
        Index("ix_rate_limit_samples_observed_at", "observed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(32))
    limit: Mapped[int] = mapped_column("limit", Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    reset_at: Mapped[datetime | None] = mapped_column()
    observed_at: Mapped[datetime] = mapped_column()
