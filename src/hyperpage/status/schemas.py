"""API shapes of connections, their sync jobs and freshness, and the admin actions on them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hyperpage.listing.query import Tool
from hyperpage.validation import DbId, RequestModel


class SyncJobOut(BaseModel):
    id: int
    connection_id: int
    connection: str
    tool: str
    resource: str = Field(description="pull_requests, pipelines, issues, rate_limits or repositories.")
    scope: str
    interval_seconds: int = Field(description="Effective interval (a tool override wins over the job's own).")
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_run_at: datetime
    running: bool = Field(description="A worker holds an unexpired lease on the job now.")
    stale: bool = Field(description="No success for more than twice the interval.")


class ConnectionOut(BaseModel):
    id: int
    tool: str
    name: str
    base_url: str
    enabled: bool = Field(description="The connection and its tool are both enabled.")
    interval_seconds: int | None = Field(description="Shortest effective job interval; null without jobs.")
    last_success_at: datetime | None = Field(description="Latest success of any of its jobs.")
    last_error: str | None = Field(description="Error of the most recent failed job that has not succeeded since.")
    last_error_at: datetime | None
    stale: bool = Field(description="At least one enabled job has no success for more than twice its interval.")
    jobs: int


class ToolOut(BaseModel):
    tool: Tool
    enabled: bool = Field(description="False when an admin disabled the tool (tool_configs).")
    interval_seconds: int | None = Field(description="Admin override of the sync interval; null = job defaults.")
    connections: list[ConnectionOut]


class ToolsReport(BaseModel):
    tools: list[ToolOut]
    stale_connections: int


class StorageOut(BaseModel):
    status: str = Field(description="ok, full (below the free space SQLite needs) or unwritable.")
    directory: str = Field(description="Directory of the SQLite file.")
    free_bytes: int | None
    error: str | None = Field(description="The cause in words, e.g. `No space left on device`.")


class SyncJobsReport(BaseModel):
    jobs: list[SyncJobOut]
    storage: StorageOut | None = Field(
        None, description="SQLite only: whether the sync can still write its file; null on PostgreSQL."
    )


class ToolUpdate(RequestModel):
    """Admin change of a tool's runtime settings; omitted fields keep their value."""

    model_config = {"extra": "forbid", "strict": True}  # 0 is not false: admin input is taken literally

    enabled: bool | None = Field(None, description="Turn the tool's sync and panels on or off.")
    interval_seconds: int | None = Field(None, ge=30, le=86_400, description="Sync interval override (30-86400 s).")


class SyncTrigger(RequestModel):
    """Which jobs to run now; no field = every job."""

    model_config = {"extra": "forbid", "strict": True}

    # strict mode wants a Tool instance, and a JSON body only ever holds the string: "github" must do
    tool: Tool | None = Field(None, strict=False, description="Only jobs of this tool's connections.")
    connection: DbId | None = Field(None, description="Only jobs of this connection id.")
    job: DbId | None = Field(None, description="One sync job id.")


class TriggerResult(BaseModel):
    due_now: int = Field(description="Jobs whose next run was moved to now.")
    at: datetime
