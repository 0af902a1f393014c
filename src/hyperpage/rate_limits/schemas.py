"""API shapes of upstream quota status: the latest sample per (connection, resource), and its history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from hyperpage.listing.query import Tool
from hyperpage.validation import DbId, RequestModel

WARNING_PERCENT = 75.0
CRITICAL_PERCENT = 90.0


class Level(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


def level_for(usage_percent: float | None) -> Level:
    """The original portal's thresholds: warning from 75 % used, critical from 90 %."""
    if usage_percent is None:
        return Level.UNKNOWN
    if usage_percent >= CRITICAL_PERCENT:
        return Level.CRITICAL
    if usage_percent >= WARNING_PERCENT:
        return Level.WARNING
    return Level.NORMAL


def usage_percent(limit: int, remaining: int) -> float | None:
    if limit <= 0:
        return None
    return round(max(0, limit - remaining) * 100.0 / limit, 1)


class RateLimitQuery(RequestModel):
    model_config = {"extra": "forbid"}

    tool: Tool | None = Field(None, description="Only connections of this tool.")
    connection: DbId | None = Field(None, description="Only this connection id.")
    resource: str | None = Field(None, min_length=1, max_length=32, description="e.g. core, search, graphql, global.")
    hours: int = Field(24, ge=1, le=168, description="History window in hours (1-168).")


class RateLimitStatus(BaseModel):
    connection_id: int
    connection: str
    tool: str
    resource: str
    limit: int
    remaining: int
    used: int
    usage_percent: float | None
    level: Level = Field(description="normal below 75 % used, warning from 75 %, critical from 90 %.")
    reset_at: datetime | None
    observed_at: datetime


class UsagePoint(BaseModel):
    observed_at: datetime
    limit: int
    remaining: int
    usage_percent: float | None


class UsageSeries(BaseModel):
    connection_id: int
    connection: str
    tool: str
    resource: str
    points: list[UsagePoint] = Field(description="Oldest first.")


class RateLimitReport(BaseModel):
    current: list[RateLimitStatus]
    history: list[UsageSeries]
    window_hours: int
