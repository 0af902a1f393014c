"""API shapes of upstream quota status: the latest sample per (connection, resource), and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

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


# Output shapes are plain dataclasses written by orjson, like the lists' (a week of history is up to 20,000
# points: pydantic objects cost more than the query). FastAPI documents them in OpenAPI all the same.
@dataclass(slots=True, kw_only=True)
class RateLimitStatus:
    connection_id: int
    connection: str
    tool: str
    resource: str
    limit: int
    remaining: int
    used: int
    usage_percent: float | None
    level: Annotated[Level, Field(description="normal below 75 % used, warning from 75 %, critical from 90 %.")]
    reset_at: datetime | None
    observed_at: datetime


@dataclass(slots=True, kw_only=True)
class UsagePoint:
    observed_at: datetime
    limit: int
    remaining: int
    usage_percent: float | None


@dataclass(slots=True, kw_only=True)
class UsageSeries:
    connection_id: int
    connection: str
    tool: str
    resource: str
    points: Annotated[list[UsagePoint], Field(description="Oldest first.")]


@dataclass(slots=True, kw_only=True)
class RateLimitReport:
    current: list[RateLimitStatus]
    history: list[UsageSeries]
    window_hours: int
