"""DORA's four keys as pure functions over plain rows (insights/rows.py); docs/insights.md has the definitions.

Every function takes the rows of one filter and the window [start, end), and returns numbers a person can check
by hand: durations in seconds, nearest-rank percentiles (stats.py), failures with the causes that made them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from hyperpage.insights.models import DeploymentStatus
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow, Stream
from hyperpage.insights.stats import Summary, in_window, seconds, summarise

Key = tuple[int | None, str]  # (repository_id, commit sha)


def streams(deployments: Iterable[DeploymentRow]) -> dict[Stream, list[DeploymentRow]]:
    """Deployments per repository+environment in the order they were created; cancelled ones never happened."""
    found: dict[Stream, list[DeploymentRow]] = defaultdict(list)
    for d in deployments:
        if d.status != DeploymentStatus.CANCELLED:
            found[d.stream].append(d)
    for line in found.values():
        line.sort(key=lambda d: (d.created_at, d.id))
    return found


def rolled_back(lines: dict[Stream, list[DeploymentRow]]) -> set[int]:
    """Deployments whose next deployment of the same stream put back a sha an earlier one had deployed."""
    found: set[int] = set()
    for line in lines.values():
        earlier: set[str] = set()
        for d, following in pairwise(line):
            if following.sha != d.sha and following.sha in earlier:
                found.add(d.id)
            earlier.add(d.sha)
    return found


def carriers(lines: dict[Stream, list[DeploymentRow]]) -> dict[int, DeploymentRow]:
    """Deployment id -> the deployment that delivered the commits of its range (known ranges only).

    A commit enters with the deployment whose compare range holds it. If that deployment failed, was cancelled
    or is still running, the commit is carried to the next successful deployment of the stream that moves
    forward (a retry of the same sha, or a new sha): the sync compares with the previous deployment whatever its
    status, so the retry's range is empty. A rollback (a sha deployed before) carries nothing: it put older code
    back, and the commits come with the next deployment's range again. Per deployment rather than per commit,
    so the insights look up each change's merge commit in SQL (queries.load_window_changes).
    """
    found: dict[int, DeploymentRow] = {}
    for line in lines.values():
        waiting: list[DeploymentRow] = []
        seen: set[str] = set()
        previous: DeploymentRow | None = None
        for d in line:
            if d.commits_known:
                waiting.append(d)
            rollback = d.sha in seen and (previous is None or d.sha != previous.sha)
            if d.succeeded and not rollback:
                for entered in waiting:
                    found[entered.id] = d
                waiting = []
            seen.add(d.sha)
            previous = d
    return found


def deliveries(lines: dict[Stream, list[DeploymentRow]]) -> dict[Key, DeploymentRow]:
    """The first successful deployment that put each commit in its environment (earliest across environments,
    when several ranges hold it): the carrier of each range, commit by commit."""
    carried = carriers(lines)
    found: dict[Key, DeploymentRow] = {}
    for line in lines.values():
        for entered in line:
            d = carried.get(entered.id)
            if d is None:
                continue
            for sha in entered.commits:
                key = (entered.repository_id, sha)
                best = found.get(key)
                if best is None or (d.finished_at, d.id) < (best.finished_at, best.id):
                    found[key] = d
    return found


@dataclass(frozen=True, slots=True)
class LeadTimes:
    summary: Summary
    by_change: dict[int, float]  # change id -> seconds, first commit -> delivering deployment finished
    unattributed: int  # no known commit range could hold it: merged before the first known deployment
    awaiting: int  # merged after the last known ranges: not in production yet
    incomplete: int  # delivered, but the first commit time is unknown


def lead_times(
    changes: Sequence[ChangeRow],
    deployments: Sequence[DeploymentRow],
    delivered: dict[Key, DeploymentRow],
) -> LeadTimes:
    """Lead time of each change (already narrowed to the window and the author filter)."""
    unknown_since: dict[int | None, list[datetime]] = defaultdict(list)
    has_deployments: set[int | None] = set()
    for d in deployments:
        has_deployments.add(d.repository_id)
        if not d.commits_known:
            unknown_since[d.repository_id].append(d.created_at)
    by_change: dict[int, float] = {}
    unattributed = awaiting = incomplete = 0
    for c in changes:
        delivery = delivered.get((c.repository_id, c.merge_commit_sha or ""))
        if delivery is not None and delivery.finished_at is not None:
            if c.first_commit_at is None:
                incomplete += 1
            else:
                by_change[c.id] = seconds(c.first_commit_at, delivery.finished_at)
        elif (
            c.merge_commit_sha is None
            or c.repository_id not in has_deployments
            or any(created > c.merged_at for created in unknown_since[c.repository_id])
        ):
            unattributed += 1
        else:
            awaiting += 1
    return LeadTimes(summarise(by_change.values()), by_change, unattributed, awaiting, incomplete)


CAUSES = ("status", "rollback", "revert", "incident")


@dataclass(frozen=True, slots=True)
class Verdict:
    deployment: DeploymentRow
    causes: tuple[str, ...]  # empty: the deployment did not fail

    @property
    def failed(self) -> bool:
        return bool(self.causes)


def reverted_keys(changes: Iterable[ChangeRow]) -> dict[Key, list[ChangeRow]]:
    """(repository, sha) reverted -> the merged reverts naming it, by sha or by the reverted PR's number."""
    merge_sha = {(c.repository_id, c.number): c.merge_commit_sha for c in changes}
    found: dict[Key, list[ChangeRow]] = defaultdict(list)
    for c in changes:
        for sha in {c.reverts_sha, merge_sha.get((c.repository_id, c.reverts_number or -1))}:
            if sha is not None:
                found[(c.repository_id, sha)].append(c)
    return found


def judge(
    deployments: Sequence[DeploymentRow],
    changes: Sequence[ChangeRow],
    incidents: Sequence[IncidentRow],
    *,
    start: datetime,
    end: datetime,
    incident_window: timedelta,
) -> list[Verdict]:
    """Every finished deployment of the window (by finished_at) with the causes that make it a failure."""
    lines = streams(deployments)
    rollbacks = rolled_back(lines)
    delivered = deliveries(lines)
    brought: dict[int, set[str]] = defaultdict(set)
    for (_repo, sha), d in delivered.items():
        brought[d.id].add(sha)
    reverts = reverted_keys(changes)
    following = _next_created(lines)
    hits = _Incidents(incidents)
    verdicts = []
    for line in lines.values():
        for d in line:
            if not d.finished or not in_window(d.finished_at, start, end):
                continue
            own = brought[d.id] | set(d.commits if d.commits_known else ())
            causes = []
            if d.status == DeploymentStatus.FAILURE:
                causes.append("status")
            if d.id in rollbacks:
                causes.append("rollback")
            if any(r.merge_commit_sha not in own for sha in own for r in reverts.get((d.repository_id, sha), ())):
                causes.append("revert")
            if hits.after(d, following.get(d.id), incident_window):
                causes.append("incident")
            verdicts.append(Verdict(d, tuple(causes)))
    verdicts.sort(key=lambda v: (v.deployment.finished_at, v.deployment.id))
    return verdicts


def _next_created(lines: dict[Stream, list[DeploymentRow]]) -> dict[int, datetime]:
    """Deployment id -> when the next deployment of the same repository (any environment of the filter) began."""
    by_repository: dict[int | None, list[DeploymentRow]] = defaultdict(list)
    for line in lines.values():
        by_repository[line[0].repository_id].extend(line)
    found: dict[int, datetime] = {}
    for line in by_repository.values():
        line.sort(key=lambda d: (d.created_at, d.id))
        for d, following in pairwise(line):
            found[d.id] = following.created_at
    return found


class _Incidents:
    """Incidents by repository, in opening order, so each deployment looks only at its own window."""

    def __init__(self, incidents: Iterable[IncidentRow]) -> None:
        self._by_repository: dict[int | None, list[IncidentRow]] = defaultdict(list)
        for i in sorted(incidents, key=lambda i: i.opened_at):
            self._by_repository[i.repository_id].append(i)
        self._opened = {repo: [i.opened_at for i in rows] for repo, rows in self._by_repository.items()}

    def after(self, d: DeploymentRow, next_created: datetime | None, window: timedelta) -> bool:
        """An incident of d's repository (or of none) and environment opened after d finished, within the window
        and before the repository's next deployment began."""
        assert d.finished_at is not None
        until = d.finished_at + window if next_created is None else min(d.finished_at + window, next_created)
        for repository in {d.repository_id, None}:
            rows, opened = self._by_repository.get(repository, []), self._opened.get(repository, [])
            for i in rows[bisect_left(opened, d.finished_at) : bisect_left(opened, until)]:
                if i.environment == d.environment or (i.environment is None and d.production):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Recovery:
    deployments: Summary  # failed deployment finished -> next successful deployment of its stream finished
    unrecovered: int
    incidents: Summary  # incident opened -> resolved
    unresolved: int


def recovery(
    verdicts: Sequence[Verdict], deployments: Sequence[DeploymentRow], incidents: Sequence[IncidentRow]
) -> Recovery:
    """Incidents are those of the window already (queries.py narrows them by opened_at and repository)."""
    lines = streams(deployments)
    position = {d.id: n for line in lines.values() for n, d in enumerate(line)}
    restored: list[float] = []
    unrecovered = 0
    for v in verdicts:
        d = v.deployment
        if not v.failed or d.finished_at is None:
            continue
        fix = next((n for n in lines[d.stream][position[d.id] + 1 :] if n.succeeded), None)
        if fix is None or fix.finished_at is None:
            unrecovered += 1
        else:
            restored.append(max(0.0, seconds(d.finished_at, fix.finished_at)))
    resolved = [seconds(i.opened_at, i.resolved_at) for i in incidents if i.resolved_at is not None]
    return Recovery(summarise(restored), unrecovered, summarise(resolved), len(incidents) - len(resolved))


@dataclass(frozen=True, slots=True)
class Frequency:
    deployments: int  # successful production deployments finished in the window
    days: float  # length of the window
    deployment_days: int  # distinct UTC dates with at least one of them (DevLake's unit)

    @property
    def per_day(self) -> float:
        return self.deployments / self.days if self.days else 0.0

    @property
    def per_week(self) -> float:
        return self.per_day * 7

    @property
    def deployment_days_per_week(self) -> float:
        return self.deployment_days / self.days * 7 if self.days else 0.0


def frequency(deployments: Iterable[DeploymentRow], *, start: datetime, end: datetime) -> Frequency:
    done = [d.finished_at for d in deployments if d.succeeded and in_window(d.finished_at, start, end)]
    return Frequency(len(done), seconds(start, end) / 86_400, len({moment.date() for moment in done if moment}))
