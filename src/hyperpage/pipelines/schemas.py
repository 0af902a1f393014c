"""API shapes of CI/CD runs (GitHub Actions workflow runs and GitLab pipelines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from hyperpage.listing.common import SyncedOut
from hyperpage.listing.query import ListQuery, case_insensitive
from hyperpage.pipelines.models import PipelineResult, PipelineStatus
from hyperpage.synced_shapes import page_of, time_sort

PipelineSort = time_sort("PipelineSort", __name__)


class PipelineQuery(ListQuery):
    status: PipelineStatus | None = Field(None, description="QUEUED, IN_PROGRESS or DONE (case-insensitive).")
    result: PipelineResult | None = Field(
        None, description="SUCCESS, FAILURE, CANCELLED or SKIPPED (case-insensitive). FAILURE = failing pipelines."
    )
    ref: str | None = Field(None, min_length=1, max_length=255, description="Only runs of this branch or tag.")
    sort: PipelineSort = Field(PipelineSort.UPDATED_DESC, description="Order; `-` means newest first. Ties by id.")  # type: ignore[valid-type]  # a time_sort copy of TimeSort

    _upper = case_insensitive("status", "result")


# A plain dataclass, not a model, as its page (synced_shapes.py says why).
@dataclass(slots=True, kw_only=True)
class PipelineOut(SyncedOut):
    name: str | None
    status: PipelineStatus
    result: PipelineResult | None
    original_status: str
    original_result: str | None
    ref: str | None
    sha: str | None
    event: str | None
    web_url: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    synced_at: datetime


PipelinePage = page_of(PipelineOut, "PipelinePage")
