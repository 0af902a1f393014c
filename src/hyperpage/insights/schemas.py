"""API shapes of the insights: the filter every insights route takes, and the two reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from hyperpage.insights.bands import Band
from hyperpage.validation import RequestModel, iso_only

DEFAULT_DAYS = 90
MAX_DAYS = 366
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


def _name(max_length: int, description: str) -> Any:
    """An optional name filter (repository, environment, login, team): not empty, at most max_length long."""
    return Field(None, min_length=1, max_length=max_length, description=description)


class InsightsQuery(RequestModel):
    """The filter of /api/v1/insights/* and /insights. Unknown parameters are refused, so a typo is not ignored."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    from_: date | None = Field(
        None,
        alias="from",
        description="First day of the window (UTC, inclusive, YYYY-MM-DD). Default: 90 days before `to`.",
    )
    to: date | None = Field(None, description="Last day of the window (UTC, inclusive, YYYY-MM-DD). Default: today.")
    repository: str | None = _name(300, "Only this repository, by full name.")
    environment: str | None = _name(
        255, "Only deployments to this environment. Default: every environment marked production."
    )
    author: str | None = _name(255, "Only changes by this login (lead time and cycle time).")
    team: str | None = _name(
        100, "Only changes by the members of this team of HYPERPAGE_TEAMS_FILE (lead time and cycle time)."
    )

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_only(cls, value: Any) -> Any:
        return iso_only(value, date, "a date such as 2026-11-01 (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _window(self) -> InsightsQuery:
        for name, value in (("from", self.from_), ("to", self.to)):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise ValueError(f"`{name}` must lie between {EARLIEST} and {LATEST}")
        if self.from_ and self.to:
            if self.from_ > self.to:
                raise ValueError("`from` is after `to`")
            if (self.to - self.from_).days + 1 > MAX_DAYS:
                raise ValueError(f"the window is longer than {MAX_DAYS} days; ask for a shorter one")
        return self

    def params(self) -> dict[str, Any]:
        """The filter as URL parameters (what the page's links and the API examples carry)."""
        values = self.model_dump(by_alias=True, exclude_none=True)
        return {k: str(v) for k, v in values.items()}


Seconds = Annotated[float | None, Field(description="Seconds; null when there is nothing to measure.")]


@dataclass(slots=True, kw_only=True)
class Window:
    start: Annotated[datetime, Field(description="First instant of the window (inclusive).")]
    end: Annotated[datetime, Field(description="End of the window (exclusive): midnight after `to`.")]
    days: int
    repository: str | None
    environment: str | None
    author: str | None
    team: str | None


@dataclass(slots=True, kw_only=True)
class Durations:
    count: int
    median_seconds: Seconds
    p75_seconds: Seconds
    p90_seconds: Seconds


@dataclass(slots=True, kw_only=True)
class FrequencyOut:
    deployments: Annotated[int, Field(description="Successful production deployments finished in the window.")]
    per_day: float
    per_week: float
    deployment_days: Annotated[int, Field(description="UTC dates with at least one (DevLake's unit).")]
    deployment_days_per_week: float
    band: Band | None


@dataclass(slots=True, kw_only=True)
class LeadTimeOut(Durations):
    unattributed: Annotated[int, Field(description="Merged before the first known deployment (range unknown).")]
    awaiting_deployment: Annotated[int, Field(description="Merged, not in a successful deployment yet.")]
    incomplete: Annotated[int, Field(description="Delivered, but the first commit time is unknown.")]
    band: Band | None


@dataclass(slots=True, kw_only=True)
class FailureRateOut:
    deployments: Annotated[int, Field(description="Finished (succeeded or failed) production deployments.")]
    failed: int
    rate: Annotated[float | None, Field(description="failed / deployments, 0-1; null without deployments.")]
    causes: Annotated[dict[str, int], Field(description="Failed deployments per cause (one may have several).")]
    band: Band | None


@dataclass(slots=True, kw_only=True)
class RecoveryOut:
    deployments: Durations
    unrecovered: Annotated[int, Field(description="Failed deployments with no successful one after them yet.")]
    incidents: Durations
    unresolved: int
    band: Annotated[Band | None, Field(description="From the failed deployments' median.")]


@dataclass(slots=True, kw_only=True)
class FailedDeployment:
    id: int
    repository: str | None
    environment: str
    sha: str
    finished_at: datetime
    causes: list[str]


@dataclass(slots=True, kw_only=True)
class DoraWeek:
    week: Annotated[date, Field(description="Monday of the ISO week (UTC).")]
    deployments: int
    deployment_days: int
    finished: int
    failed: int
    lead_time_median_seconds: Seconds


@dataclass(slots=True, kw_only=True)
class DoraReport:
    window: Window
    incident_window_hours: float
    deployment_frequency: FrequencyOut
    lead_time: LeadTimeOut
    change_failure_rate: FailureRateOut
    recovery: RecoveryOut
    failed_deployments: list[FailedDeployment]
    weekly: list[DoraWeek]
    bands_source: str


@dataclass(slots=True, kw_only=True)
class CycleWeek:
    week: date
    changes: int
    coding_median_seconds: Seconds
    pickup_median_seconds: Seconds
    review_median_seconds: Seconds
    deploy_median_seconds: Seconds


@dataclass(slots=True, kw_only=True)
class CycleTimeReport:
    window: Window
    changes: Annotated[int, Field(description="Changes merged in the window.")]
    reviewed: int
    merged_without_review: Annotated[int, Field(description="Merged with no review by someone else: no pickup/review.")]
    undeployed: Annotated[int, Field(description="Merged, not delivered to production (yet, or range unknown).")]
    coding: Durations
    pickup: Durations
    review: Durations
    deploy: Durations
    ready_to_merge_without_review: Annotated[Durations, Field(description="Ready -> merge of unreviewed changes.")]
    weekly: list[CycleWeek]
