"""API shapes of tickets: Jira issues next to GitHub and GitLab issues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field

from hyperpage.issues.models import StatusCategory
from hyperpage.listing.common import SyncedOut
from hyperpage.listing.query import ListQuery, case_insensitive
from hyperpage.synced_shapes import page_of, time_sort

IssueSort = time_sort("IssueSort", __name__)


class IssueQuery(ListQuery):
    status_category: StatusCategory | None = Field(None, description="TODO, IN_PROGRESS or DONE (case-insensitive).")
    assignee: str | None = Field(None, min_length=1, max_length=255, description="Only issues assigned to this user.")
    label: str | None = Field(None, min_length=1, max_length=255, description="Only issues carrying this label.")
    sort: IssueSort = Field(IssueSort.UPDATED_DESC, description="Order; `-` means newest first. Ties by id.")  # type: ignore[valid-type]  # a time_sort copy of TimeSort

    _upper = case_insensitive("status_category")


# A plain dataclass, not a model, as its page (synced_shapes.py says why).
@dataclass(slots=True, kw_only=True)
class IssueOut(SyncedOut):
    repository: Annotated[str | None, Field(description="Repository or project full name.")]
    key: str
    title: str
    status_category: StatusCategory
    original_status: str
    assignee: str | None
    reporter: str | None
    priority: str | None
    issue_type: str | None
    labels: list[str]
    web_url: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    synced_at: datetime


IssuePage = page_of(IssueOut, "IssuePage")
