"""API shapes of code reviews (GitHub pull requests and GitLab merge requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field

from hyperpage.listing.common import SyncedOut
from hyperpage.listing.query import ListQuery, case_insensitive
from hyperpage.reviews.models import ReviewState
from hyperpage.synced_shapes import page_of, time_sort

ReviewSort = time_sort("ReviewSort", __name__)


class ReviewQuery(ListQuery):
    state: ReviewState | None = Field(None, description="OPEN, CLOSED or MERGED (case-insensitive).")
    author: str | None = Field(None, min_length=1, max_length=255, description="Only reviews opened by this user.")
    reviewer: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description='Only reviews where this user is a requested reviewer ("needs my review").',
    )
    label: str | None = Field(None, min_length=1, max_length=255, description="Only reviews carrying this label.")
    draft: bool | None = Field(None, description="true: drafts only; false: ready for review only.")
    sort: ReviewSort = Field(ReviewSort.UPDATED_DESC, description="Order; `-` means newest first. Ties by id.")  # type: ignore[valid-type]  # a time_sort copy of TimeSort

    _upper = case_insensitive("state")


# A plain dataclass, not a model, as its page (synced_shapes.py says why).
@dataclass(slots=True, kw_only=True)
class ReviewOut(SyncedOut):
    number: int
    key: Annotated[str, Field(description="`#123` for GitHub, `!123` for GitLab.")]
    title: str
    state: ReviewState
    original_state: str
    draft: bool
    author: str | None
    requested_reviewers: list[str]
    labels: list[str]
    source_branch: str | None
    target_branch: str | None
    web_url: str | None
    created_at: datetime
    updated_at: datetime
    merged_at: datetime | None
    closed_at: datetime | None
    synced_at: datetime


ReviewPage = page_of(ReviewOut, "ReviewPage")
