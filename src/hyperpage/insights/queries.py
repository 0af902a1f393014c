"""The SQL of the insights: load the rows of one filter (SQLAlchemy Core, the same statements on both engines).

Rows around the window are loaded too, because the window's figures depend on them: a change merged in the
window may reach production after it, a deployment is rolled back by the next one, an incident opened after
the window's last deployment still counts against it. LOOKBACK bounds how far: 90 days either side, plus every
deployment whose commit range is unknown (they decide which changes are "unattributed", however old).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Select

from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow
from hyperpage.listing.reader import fetch_rows
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.models import Repository

LOOKBACK = timedelta(days=90)
CHUNK = 1000  # values of one IN (...) list: far below either engine's limit of bound parameters


@dataclass(frozen=True, slots=True)
class Scope:
    start: datetime
    end: datetime
    repository: str | None = None  # full name
    environment: str | None = None  # None: every production environment
    incident_window: timedelta = timedelta(hours=24)

    @property
    def load_from(self) -> datetime:
        return max(datetime.min.replace(tzinfo=self.start.tzinfo), self.start - LOOKBACK)

    @property
    def load_until(self) -> datetime:
        return min(datetime.max.replace(tzinfo=self.end.tzinfo), self.end + LOOKBACK)


async def _rows(engine: AsyncEngine, stmt: Select[*tuple[Any, ...]], *, times: tuple[int, ...] = ()) -> list[Any]:
    """Run on the driver itself (listing/reader.py): 100,000 changes through SQLAlchemy's result rows and
    TZDateTime cost 7x the query (bench/bench_insights.py). Times then come back as the driver gives them."""
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})  # IN (...) lists
    processors = compiled._bind_processors
    params = []
    for name in compiled.positiontup or ():
        processor = processors.get(name)  # the column type's own conversion (TZDateTime: naive UTC on SQLite)
        params.append(processor(compiled.params[name]) if callable(processor) else compiled.params[name])
    fetched = await fetch_rows(engine, compiled.string, params)
    if not times:
        return fetched  # tuples or asyncpg Records, read by position: 100,000 copies cost more than the query
    rows = []
    for raw in fetched:
        row = list(raw)
        for i in times:
            row[i] = _utc(row[i])
        rows.append(row)
    return rows


def _utc(value: Any) -> Any:
    """A time as the driver returns it: SQLite's naive UTC text (db/base.py, TZDateTime), asyncpg's aware value."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")  # 7x faster than parsing, then .replace(tzinfo=UTC)
    return value


def _in_repository(column: InstrumentedAttribute[int | None], scope: Scope) -> ColumnElement[bool]:
    if scope.repository is None:
        return true()
    return column.in_(select(Repository.id).where(Repository.full_name == scope.repository))


def _deployment_filter(scope: Scope) -> ColumnElement[bool]:
    d = Deployment
    environment = d.production.is_(True) if scope.environment is None else d.environment == scope.environment
    near = and_(d.created_at >= scope.load_from, d.created_at < scope.load_until)
    return and_(environment, _in_repository(d.repository_id, scope), or_(near, d.commits_known.is_(False)))


def _change_filter(scope: Scope) -> ColumnElement[bool]:
    """Changes merged near the window: the reverts among them may fail a deployment of the window."""
    p = PullRequest
    return and_(
        p.merged_at.is_not(None),
        p.merged_at >= scope.load_from,
        p.merged_at < scope.load_until,
        _in_repository(p.repository_id, scope),
    )


async def load_deployments(engine: AsyncEngine, scope: Scope, wanted: set[str]) -> list[DeploymentRow]:
    """The deployments of the filter, each with the commits of its range that are in `wanted` (the commits the
    failure causes ask about: reverts and what they revert); the changes find theirs in load_window_changes."""
    d = Deployment
    commits: dict[int, set[str]] = {}
    ordered = sorted(wanted)
    for i in range(0, len(ordered), CHUNK):
        # by sha alone, through its index, and kept below for the deployments of the filter: joined with
        # deployments in SQL, SQLite probes the (deployment_id, sha) key once per pair of deployment and sha
        pairs = select(DeploymentCommit.deployment_id, DeploymentCommit.sha)
        for deployment_id, sha in await _rows(engine, pairs.where(DeploymentCommit.sha.in_(ordered[i : i + CHUNK]))):
            commits.setdefault(deployment_id, set()).add(sha)
    rows = await _rows(
        engine,
        select(
            d.id,
            d.repository_id,
            d.environment,
            d.production,
            d.sha,
            d.status,
            d.created_at,
            d.finished_at,
            d.commits_known,
        ).where(_deployment_filter(scope)),
        times=(6, 7),
    )
    return [
        DeploymentRow(
            id=row[0],
            repository_id=row[1],
            environment=row[2],
            production=bool(row[3]),
            sha=row[4],
            status=row[5],
            created_at=row[6],
            finished_at=row[7],
            commits_known=bool(row[8]),
            commits=frozenset(commits.get(row[0], ())),
        )
        for row in rows
    ]


def _first_review() -> ColumnElement[Any]:
    """The timeline's first review when the sync wrote it, else the earliest review by someone else, not a bot."""
    p, t, r = PullRequest, PullRequestTimeline, PullRequestReview
    from_reviews = (
        select(func.min(r.submitted_at))
        .where(
            r.pull_request_id == p.id,
            r.reviewer_is_bot.is_(False),
            r.state != "PENDING",
            or_(r.reviewer.is_(None), p.author.is_(None), not_(func.lower(r.reviewer) == func.lower(p.author))),
        )
        .scalar_subquery()
    )
    return func.coalesce(t.first_review_at, from_reviews)


async def load_window_changes(engine: AsyncEngine, scope: Scope) -> list[Any]:
    """The changes merged in the window, all authors, as the rows changes.tally reads: id, repository_id, author,
    merged, first commit, ready, first review, merge sha, and the id of a deployment whose range holds the merge
    commit (one row per such deployment; None when there is none). Times come as the driver gives them (SQLite:
    naive UTC text, which tally parses only for the rows it keeps; asyncpg: aware datetimes)."""
    p, t = PullRequest, PullRequestTimeline
    stmt = (
        select(
            p.id,
            p.repository_id,
            p.author,
            p.merged_at,
            t.first_commit_at,
            func.coalesce(t.ready_for_review_at, p.created_at),
            _first_review(),
            t.merge_commit_sha,
            DeploymentCommit.deployment_id,
        )
        .outerjoin(t, t.pull_request_id == p.id)
        .outerjoin(DeploymentCommit, DeploymentCommit.sha == t.merge_commit_sha)
        .where(
            p.merged_at.is_not(None),
            p.merged_at >= scope.start,
            p.merged_at < scope.end,
            _in_repository(p.repository_id, scope),
        )
    )
    return await _rows(engine, stmt)


def _change_rows(where: ColumnElement[bool], scope: Scope) -> Select[*tuple[Any, ...]]:
    p, t = PullRequest, PullRequestTimeline
    return (
        select(
            p.id,
            p.repository_id,
            p.number,
            p.author,
            p.created_at,
            p.merged_at,
            t.first_commit_at,
            t.ready_for_review_at,
            _first_review(),
            t.merge_commit_sha,
            t.reverts_number,
            t.reverts_sha,
        )
        .outerjoin(t, t.pull_request_id == p.id)
        .where(where, _change_filter(scope))
    )


async def load_reverts(engine: AsyncEngine, scope: Scope) -> list[ChangeRow]:
    """The merged reverts near the window (all authors: a revert by anyone fails a deployment) and the changes
    they name by number: all metrics.judge needs of the changes, a few rows instead of every change."""
    t = PullRequestTimeline
    times = (4, 5, 6, 7, 8)
    reverts = [
        ChangeRow(*row)
        for row in await _rows(
            engine, _change_rows(or_(t.reverts_number.is_not(None), t.reverts_sha.is_not(None)), scope), times=times
        )
    ]
    named = {(c.repository_id, c.reverts_number) for c in reverts if c.reverts_number is not None}
    numbers = sorted({number for _repo, number in named})
    found = {c.id: c for c in reverts}
    for i in range(0, len(numbers), CHUNK):
        part = _change_rows(PullRequest.number.in_(numbers[i : i + CHUNK]), scope)
        for row in await _rows(engine, part, times=times):
            if (row[1], row[2]) in named:
                found.setdefault(row[0], ChangeRow(*row))
    return list(found.values())


async def load_incidents(engine: AsyncEngine, scope: Scope) -> list[IncidentRow]:
    """Incidents opened in the window or within the incident window after it (they may fail its deployments)."""
    i = Incident
    until = min(datetime.max.replace(tzinfo=scope.end.tzinfo), scope.end + scope.incident_window)
    stmt = select(i.id, i.repository_id, i.environment, i.opened_at, i.resolved_at).where(
        i.opened_at >= scope.start,
        i.opened_at < until,
        or_(i.repository_id.is_(None), _in_repository(i.repository_id, scope)),
    )
    return [IncidentRow(*row) for row in await _rows(engine, stmt, times=(3, 4))]
