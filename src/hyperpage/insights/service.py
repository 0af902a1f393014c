"""The two insights reports: load the rows of a filter (queries.py), compute (metrics.py, changes.py), shape."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperpage import errors
from hyperpage.config import Settings
from hyperpage.insights import bands, metrics
from hyperpage.insights.changes import Tally, tally
from hyperpage.insights.queries import Scope, load_deployments, load_incidents, load_reverts, load_window_changes
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow
from hyperpage.insights.schemas import (
    DEFAULT_DAYS,
    CycleTimeReport,
    CycleWeek,
    DoraReport,
    DoraWeek,
    Durations,
    FailedDeployment,
    FailureRateOut,
    FrequencyOut,
    InsightsQuery,
    LeadTimeOut,
    RecoveryOut,
    Window,
)
from hyperpage.insights.stats import Summary, in_window, summarise, week_of, weeks_between
from hyperpage.insights.teams import VARIABLE, Teams
from hyperpage.tools.models import Repository


class UnknownTeam(errors.AppError):
    status, code = 422, "invalid_request"


@dataclass(frozen=True, slots=True)
class Loaded:
    deployments: list[DeploymentRow]
    changes: list[Any]  # the window's changes, all authors (queries.load_window_changes)
    reverts: list[ChangeRow]  # the reverts near the window and the changes they name (queries.load_reverts)
    incidents: list[IncidentRow]
    names: dict[int, str]  # repository id -> full name
    text_times: bool  # the changes' times are SQLite's text (changes.tally)


def scope_of(query: InsightsQuery, settings: Settings, today: date | None = None) -> Scope:
    """The window in instants: `to`'s whole day included, so the default window is stable for a day (and its
    ETag with it) instead of moving with every request."""
    last = query.to or today or datetime.now(UTC).date()
    first = query.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
    return Scope(
        start=datetime.combine(first, time(), UTC),
        end=datetime.combine(last + timedelta(days=1), time(), UTC),
        repository=query.repository,
        environment=query.environment,
        incident_window=timedelta(hours=settings.hyperpage_insights_incident_window_hours),
    )


def authors_of(query: InsightsQuery, teams: Teams) -> frozenset[str] | None:
    """The logins the change-based figures keep (lower case), or None for everyone."""
    found: frozenset[str] | None = None
    if query.team is not None:
        if query.team not in teams:
            known = ", ".join(sorted(teams)) or f"none: {VARIABLE} is not set"
            message = f"unknown team {query.team!r} (known teams: {known})"
            raise UnknownTeam(f"invalid request: team: {message}", details=[{"field": "team", "message": message}])
        found = teams[query.team]
    if query.author is not None:
        found = frozenset({query.author.lower()}) & found if found is not None else frozenset({query.author.lower()})
    return found


async def load(engine: AsyncEngine, scope: Scope, *, failures: bool = True) -> Loaded:
    """The rows of the filter; without `failures` (cycle time) none of what only the failure rate and recovery
    read: reverts, incidents, the commits of ranges and repository names. The window's changes are read on a
    connection of their own meanwhile: the database steps through them while Python builds the rest."""
    changes, (deployments, reverts, incidents, names) = await asyncio.gather(
        load_window_changes(engine, scope), _load_deployments(engine, scope, failures=failures)
    )
    return Loaded(deployments, changes, reverts, incidents, names, engine.dialect.name == "sqlite")


async def _load_deployments(
    engine: AsyncEngine, scope: Scope, *, failures: bool
) -> tuple[list[DeploymentRow], list[ChangeRow], list[IncidentRow], dict[int, str]]:
    if not failures:
        return await load_deployments(engine, scope, set()), [], [], {}
    reverts = await load_reverts(engine, scope)
    wanted = {sha for c in reverts for sha in (c.merge_commit_sha, c.reverts_sha) if sha is not None}
    deployments = await load_deployments(engine, scope, wanted)
    incidents = await load_incidents(engine, scope)
    ids = {d.repository_id for d in deployments if d.repository_id is not None}
    async with engine.connect() as conn:
        names = dict(
            (await conn.execute(select(Repository.id, Repository.full_name).where(Repository.id.in_(ids)))).all()
        )
    return deployments, reverts, incidents, names


def _durations(s: Summary) -> Durations:
    return Durations(count=s.count, median_seconds=s.median, p75_seconds=s.p75, p90_seconds=s.p90)


def _window(query: InsightsQuery, scope: Scope) -> Window:
    return Window(
        start=scope.start,
        end=scope.end,
        days=(scope.end - scope.start).days,
        repository=query.repository,
        environment=query.environment,
        author=query.author,
        team=query.team,
    )


def _window_incidents(loaded: Loaded, scope: Scope) -> list[IncidentRow]:
    """Incidents opened in the window that hit the filter's environments (None on an incident: production)."""
    production = {d.environment for d in loaded.deployments if d.production}

    def hits(i: IncidentRow) -> bool:
        if scope.environment is not None:
            return i.environment == scope.environment
        return i.environment is None or i.environment in production

    return [i for i in loaded.incidents if in_window(i.opened_at, scope.start, scope.end) and hits(i)]


def dora_report(loaded: Loaded, query: InsightsQuery, scope: Scope, counted: Tally) -> DoraReport:
    lead = counted.lead()
    freq = metrics.frequency(loaded.deployments, start=scope.start, end=scope.end)
    verdicts = metrics.judge(
        loaded.deployments,
        loaded.reverts,
        loaded.incidents,
        start=scope.start,
        end=scope.end,
        incident_window=scope.incident_window,
    )
    failed = [v for v in verdicts if v.failed]
    rate = len(failed) / len(verdicts) if verdicts else None
    rec = metrics.recovery(verdicts, loaded.deployments, _window_incidents(loaded, scope))
    return DoraReport(
        window=_window(query, scope),
        incident_window_hours=scope.incident_window.total_seconds() / 3600,
        deployment_frequency=FrequencyOut(
            deployments=freq.deployments,
            per_day=freq.per_day,
            per_week=freq.per_week,
            deployment_days=freq.deployment_days,
            deployment_days_per_week=freq.deployment_days_per_week,
            band=bands.deployment_frequency(freq.per_day if loaded.deployments else None),
        ),
        lead_time=LeadTimeOut(
            **asdict(_durations(lead)),
            unattributed=counted.unattributed,
            awaiting_deployment=counted.awaiting,
            incomplete=counted.incomplete,
            band=bands.lead_time(lead.median),
        ),
        change_failure_rate=FailureRateOut(
            deployments=len(verdicts),
            failed=len(failed),
            rate=rate,
            causes={cause: sum(cause in v.causes for v in failed) for cause in metrics.CAUSES},
            band=bands.change_failure_rate(rate),
        ),
        recovery=RecoveryOut(
            deployments=_durations(rec.deployments),
            unrecovered=rec.unrecovered,
            incidents=_durations(rec.incidents),
            unresolved=rec.unresolved,
            band=bands.recovery_time(rec.deployments.median),
        ),
        failed_deployments=[
            FailedDeployment(
                id=v.deployment.id,
                repository=loaded.names.get(v.deployment.repository_id or 0),
                environment=v.deployment.environment,
                sha=v.deployment.sha,
                finished_at=v.deployment.finished_at,  # type: ignore[arg-type]
                causes=list(v.causes),
            )
            for v in failed
        ],
        weekly=_dora_weeks(scope, loaded.deployments, verdicts, counted),
        bands_source=bands.SOURCE,
    )


def _dora_weeks(
    scope: Scope,
    deployments: Sequence[DeploymentRow],
    verdicts: Sequence[metrics.Verdict],
    counted: Tally,
) -> list[DoraWeek]:
    done: dict[date, list[datetime]] = defaultdict(list)
    for d in deployments:
        if d.succeeded and d.finished_at is not None and in_window(d.finished_at, scope.start, scope.end):
            done[week_of(d.finished_at)].append(d.finished_at)
    finished: dict[date, list[metrics.Verdict]] = defaultdict(list)
    for v in verdicts:
        finished[week_of(v.deployment.finished_at)].append(v)  # type: ignore[arg-type]
    return [
        DoraWeek(
            week=week,
            deployments=len(done[week]),
            deployment_days=len({moment.date() for moment in done[week]}),
            finished=len(finished[week]),
            failed=sum(v.failed for v in finished[week]),
            lead_time_median_seconds=summarise(counted.week(week).lead).median,
        )
        for week in weeks_between(scope.start, scope.end)
    ]


def cycle_report(query: InsightsQuery, scope: Scope, counted: Tally) -> CycleTimeReport:
    total = counted.total().cycle()
    weekly = []
    for week in weeks_between(scope.start, scope.end):
        part = counted.week(week).cycle()
        weekly.append(
            CycleWeek(
                week=week,
                changes=part.changes,
                coding_median_seconds=part.coding.median,
                pickup_median_seconds=part.pickup.median,
                review_median_seconds=part.review.median,
                deploy_median_seconds=part.deploy.median,
            )
        )
    return CycleTimeReport(
        window=_window(query, scope),
        changes=total.changes,
        reviewed=total.reviewed,
        merged_without_review=total.unreviewed,
        undeployed=total.undeployed,
        coding=_durations(total.coding),
        pickup=_durations(total.pickup),
        review=_durations(total.review),
        deploy=_durations(total.deploy),
        ready_to_merge_without_review=_durations(total.merged_without_review),
        weekly=weekly,
    )


def _tally(loaded: Loaded, query: InsightsQuery, teams: Teams) -> Tally:
    return tally(loaded.changes, loaded.deployments, authors_of(query, teams), text=loaded.text_times)


async def dora(
    engine: AsyncEngine, *, query: InsightsQuery, settings: Settings, teams: Teams, today: date | None = None
) -> DoraReport:
    scope = scope_of(query, settings, today)
    authors_of(query, teams)  # an unknown team is refused before any query runs
    loaded = await load(engine, scope)
    return dora_report(loaded, query, scope, _tally(loaded, query, teams))


async def cycle_time(
    engine: AsyncEngine, *, query: InsightsQuery, settings: Settings, teams: Teams, today: date | None = None
) -> CycleTimeReport:
    scope = scope_of(query, settings, today)
    authors_of(query, teams)
    return cycle_report(query, scope, _tally(await load(engine, scope, failures=False), query, teams))


async def reports(
    engine: AsyncEngine, *, query: InsightsQuery, settings: Settings, teams: Teams, today: date | None = None
) -> tuple[DoraReport, CycleTimeReport]:
    """Both reports from one load of the rows and one pass over the changes (the page and, through memo.py, the
    API share them)."""
    scope = scope_of(query, settings, today)
    authors_of(query, teams)
    loaded = await load(engine, scope)
    counted = _tally(loaded, query, teams)
    return dora_report(loaded, query, scope, counted), cycle_report(query, scope, counted)
