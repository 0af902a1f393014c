"""Pull-request cycle time in four stages (docs/insights.md, "Cycle time"), as pure functions over plain rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hyperpage.insights.metrics import Key
from hyperpage.insights.rows import ChangeRow, DeploymentRow
from hyperpage.insights.stats import Summary, seconds, summarise

STAGES = ("coding", "pickup", "review", "deploy")


@dataclass(frozen=True, slots=True)
class Stages:
    """One change's stages in seconds; None where the stage does not apply or a moment is unknown."""

    change: ChangeRow
    coding: float | None  # first commit -> ready for review
    pickup: float | None  # ready -> first review by someone else (not a bot)
    review: float | None  # first review -> merge
    deploy: float | None  # merge -> the production deployment that delivered the merge commit
    unreviewed: float | None  # ready -> merge, for a change merged without any review


def stages(change: ChangeRow, delivered_at: datetime | None) -> Stages:
    """A review after the merge is no review of this change; a moment before the one it follows counts as 0 s
    (a review while still in draft is picked up the moment the PR is ready)."""
    ready, merged = change.ready_at, change.merged_at
    review_at = change.first_review_at if change.first_review_at and change.first_review_at <= merged else None
    coding = _span(change.first_commit_at, ready)
    deploy = _span(merged, delivered_at)
    if review_at is None:
        return Stages(change, coding, None, None, deploy, _span(ready, merged))
    return Stages(change, coding, _span(ready, review_at), _span(review_at, merged), deploy, None)


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, seconds(start, end))


@dataclass(frozen=True, slots=True)
class CycleTime:
    changes: int
    reviewed: int
    unreviewed: int  # merged without any review: pickup and review do not apply to them
    undeployed: int  # merged, not delivered to production (yet, or the range is unknown)
    coding: Summary
    pickup: Summary
    review: Summary
    deploy: Summary
    merged_without_review: Summary  # ready -> merge of the unreviewed changes: Middleware #696 loses this time


def stage_rows(changes: Sequence[ChangeRow], delivered: dict[Key, DeploymentRow]) -> list[Stages]:
    return [stages(c, _delivered_at(c, delivered)) for c in changes]


def cycle_time(rows: Sequence[Stages]) -> CycleTime:
    def values(name: str) -> list[float]:
        return [v for r in rows if (v := getattr(r, name)) is not None]

    undeployed = sum(1 for r in rows if r.deploy is None)
    stages = (values("coding"), values("pickup"), values("review"), values("deploy"))
    return summed(len(rows), undeployed, *stages, unreviewed=values("unreviewed"))


def summed(
    changes: int,
    undeployed: int,
    coding: Sequence[float],
    pickup: Sequence[float],
    review: Sequence[float],
    deploy: Sequence[float],
    *,
    unreviewed: Sequence[float],
) -> CycleTime:
    """The cycle time of `changes` changes from their stages' values (a change merged without review has a
    ready -> merge value in `unreviewed` instead of pickup and review)."""
    return CycleTime(
        changes=changes,
        reviewed=changes - len(unreviewed),
        unreviewed=len(unreviewed),
        undeployed=undeployed,
        coding=summarise(coding),
        pickup=summarise(pickup),
        review=summarise(review),
        deploy=summarise(deploy),
        merged_without_review=summarise(unreviewed),
    )


def _delivered_at(change: ChangeRow, delivered: dict[Key, DeploymentRow]) -> datetime | None:
    d = delivered.get((change.repository_id, change.merge_commit_sha or ""))
    return d.finished_at if d is not None else None
