"""Lead time and the cycle-time stages of the window's changes, in one pass over the rows as the driver gives them.

A default filter holds as many changes as a team merges in 90 days (100,000 in bench/bench_insights.py). Built as
ChangeRows they cost seconds (an object, five aware datetimes and several dictionaries per change); this pass
reads queries.load_window_changes' rows directly, parses a time only for a change it keeps, and looks up the
deployment that delivered the merge commit per range (metrics.carriers) instead of per commit. The definitions
are those of metrics.lead_times and cycle.stages (docs/insights.md), with the same arithmetic (timedelta seconds),
so the figures are the same to the last bit; tests/insights/test_changes.py holds the two paths together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hyperpage.insights.cycle import CycleTime, summed
from hyperpage.insights.metrics import carriers, streams
from hyperpage.insights.rows import DeploymentRow
from hyperpage.insights.stats import Summary, summarise


@dataclass(slots=True)
class Week:
    """What the changes merged in one ISO week contribute; the window's figures are the union of its weeks."""

    changes: int = 0
    undeployed: int = 0
    lead: list[float] = field(default_factory=list)
    coding: list[float] = field(default_factory=list)
    pickup: list[float] = field(default_factory=list)
    review: list[float] = field(default_factory=list)
    deploy: list[float] = field(default_factory=list)
    unreviewed: list[float] = field(default_factory=list)  # ready -> merge of the changes merged without review

    def cycle(self) -> CycleTime:
        stages = (self.coding, self.pickup, self.review, self.deploy)
        return summed(self.changes, self.undeployed, *stages, unreviewed=self.unreviewed)


@dataclass(slots=True)
class Tally:
    weeks: dict[date, Week]  # by the Monday of the merge week
    unattributed: int = 0  # no known commit range could hold it (metrics.lead_times)
    awaiting: int = 0  # merged after the last known ranges
    incomplete: int = 0  # delivered, first commit time unknown

    def week(self, monday: date) -> Week:
        return self.weeks.get(monday) or Week()

    def total(self) -> Week:
        whole = Week()
        for w in self.weeks.values():
            whole.changes += w.changes
            whole.undeployed += w.undeployed
            for name in ("lead", "coding", "pickup", "review", "deploy", "unreviewed"):
                getattr(whole, name).extend(getattr(w, name))
        return whole

    def lead(self) -> Summary:
        return summarise(v for w in self.weeks.values() for v in w.lead)


def tally(
    rows: Sequence[Any], deployments: Sequence[DeploymentRow], authors: frozenset[str] | None, *, text: bool
) -> Tally:
    """rows: queries.load_window_changes (id, repository_id, author, merged, first commit, ready, first review,
    merge sha, a deployment holding the merge commit); deployments: every deployment of the filter. `text`: the
    times are SQLite's naive UTC text, compared with the deployments' times made naive the same way."""
    same = _naive if text else _aware
    parse = datetime.fromisoformat
    delivered, repeated = _deliveries(rows, deployments, same)
    deployed: set[int | None] = set()
    unknown_since: dict[int | None, datetime] = {}  # the latest unknown range of each repository
    for d in deployments:
        deployed.add(d.repository_id)
        if not d.commits_known:
            created = same(d.created_at)
            unknown_since[d.repository_id] = max(created, unknown_since.get(d.repository_id, created))
    weeks: dict[int, Week] = {}
    done: set[int] = set()
    out = Tally({})
    # one loop over up to 100,000 rows: spans as `x if x > 0.0 else 0.0`, not max() (a call per value)
    for change, repository, author, merged, first, ready, review, sha, _entry in rows:
        if repeated and change in repeated:  # one row per deployment holding the merge commit: count it once
            if change in done:
                continue
            done.add(change)
        if authors is not None and (author or "").lower() not in authors:
            continue
        if text:
            merged, ready = parse(merged), parse(ready)
            first = first and parse(first)
            review = review and parse(review)
        day = merged.toordinal()
        monday = day - (day - 1) % 7  # ordinal 1, Jan 1 of year 1, is a Monday
        week = weeks.get(monday)
        if week is None:
            week = weeks[monday] = Week()
        week.changes += 1
        carrier = delivered.get(change)
        if carrier is None:
            week.undeployed += 1
            if sha is None or repository not in deployed or unknown_since.get(repository, merged) > merged:
                out.unattributed += 1
            else:
                out.awaiting += 1
        else:
            finished = carrier[0]
            if first is None:
                out.incomplete += 1
            else:
                week.lead.append((finished - first).total_seconds())
            span = (finished - merged).total_seconds()
            week.deploy.append(span if span > 0.0 else 0.0)
        if first is not None:
            span = (ready - first).total_seconds()
            week.coding.append(span if span > 0.0 else 0.0)
        if review is not None and review <= merged:  # a review after the merge is no review of this change
            span = (review - ready).total_seconds()
            week.pickup.append(span if span > 0.0 else 0.0)
            span = (merged - review).total_seconds()
            week.review.append(span if span > 0.0 else 0.0)
        else:
            span = (merged - ready).total_seconds()
            week.unreviewed.append(span if span > 0.0 else 0.0)
    out.weeks = {date.fromordinal(monday): week for monday, week in weeks.items()}
    return out


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment


Carrier = tuple[datetime, int, int | None]  # finished_at (as the rows' times), id, repository_id


def _deliveries(
    rows: Iterable[Any], deployments: Sequence[DeploymentRow], same: Callable[[datetime], datetime]
) -> tuple[dict[int, Carrier], set[int]]:
    """Change id -> the deployment that delivered its merge commit: the earliest carrier (metrics.carriers) of the
    ranges holding it in the change's repository; and the changes that come in several rows."""
    carried: dict[int, Carrier] = {
        entered: (same(d.finished_at), d.id, d.repository_id)  # type: ignore[arg-type]  # a carrier succeeded
        for entered, d in carriers(streams(deployments)).items()
    }
    best: dict[int, Carrier] = {}
    seen: set[int] = set()
    repeated: set[int] = set()
    for change, repository, _author, _merged, _first, _ready, _review, _sha, entry in rows:
        if entry is None:
            continue
        if change in seen:
            repeated.add(change)
        seen.add(change)
        by = carried.get(entry)
        if by is None or by[2] != repository:
            continue
        current = best.get(change)
        if current is None or by < current:  # (finished_at, id) decide: the same repository
            best[change] = by
    return best, repeated
