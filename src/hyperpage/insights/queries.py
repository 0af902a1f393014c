"""The SQL of the insights: load the rows of one filter (SQLAlchemy Core, the same statements on both engines).

Rows around the window are loaded too, because the window's figures depend on them: a change merged in the
window may reach production after it, a deployment is rolled back by the next one, an incident opened after
the window's last deployment still counts against it. LOOKBACK bounds how far: 90 days either side, plus every
deployment whose commit range is unknown (they decide which changes are "unattributed", however old).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.insights.rows import ChangeRow, DeploymentRow, IncidentRow
from hyperpage.reviews.models import PullRequest
from hyperpage.tools.models import Repository

LOOKBACK = timedelta(days=90)


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
    p = PullRequest
    return and_(
        p.merged_at.is_not(None),
        p.merged_at >= scope.load_from,
        p.merged_at < scope.load_until,
        _in_repository(p.repository_id, scope),
    )


async def load_deployments(conn: AsyncConnection, scope: Scope) -> list[DeploymentRow]:
    d, t = Deployment, PullRequestTimeline
    # only the commits the metrics ask about: merge commits of the loaded changes and the commits they revert
    wanted = union(
        select(t.merge_commit_sha).join(PullRequest, PullRequest.id == t.pull_request_id).where(_change_filter(scope)),
        select(t.reverts_sha).join(PullRequest, PullRequest.id == t.pull_request_id).where(_change_filter(scope)),
    )
    ids = select(d.id).where(_deployment_filter(scope))
    pairs = await conn.execute(
        select(DeploymentCommit.deployment_id, DeploymentCommit.sha).where(
            DeploymentCommit.deployment_id.in_(ids), DeploymentCommit.sha.in_(wanted)
        )
    )
    commits: dict[int, set[str]] = {}
    for deployment_id, sha in pairs:
        commits.setdefault(deployment_id, set()).add(sha)
    rows = await conn.execute(
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
        ).where(_deployment_filter(scope))
    )
    return [DeploymentRow(*row, commits=frozenset(commits.get(row.id, ()))) for row in rows]


async def load_changes(conn: AsyncConnection, scope: Scope) -> list[ChangeRow]:
    """Merged changes near the window, all authors (a revert by anyone fails a deployment)."""
    p, t, r = PullRequest, PullRequestTimeline, PullRequestReview
    # the timeline's first review when the sync wrote it, else the earliest review by someone else, not a bot
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
    stmt = (
        select(
            p.id,
            p.repository_id,
            p.number,
            p.author,
            p.created_at,
            p.merged_at,
            t.first_commit_at,
            t.ready_for_review_at,
            func.coalesce(t.first_review_at, from_reviews),
            t.merge_commit_sha,
            t.reverts_number,
            t.reverts_sha,
        )
        .outerjoin(t, t.pull_request_id == p.id)
        .where(_change_filter(scope))
    )
    return [ChangeRow(*row) for row in await conn.execute(stmt)]  # type: ignore[arg-type]  # merged_at is set


async def load_incidents(conn: AsyncConnection, scope: Scope) -> list[IncidentRow]:
    """Incidents opened in the window or within the incident window after it (they may fail its deployments)."""
    i = Incident
    until = min(datetime.max.replace(tzinfo=scope.end.tzinfo), scope.end + scope.incident_window)
    stmt = select(i.id, i.repository_id, i.environment, i.opened_at, i.resolved_at).where(
        i.opened_at >= scope.start,
        i.opened_at < until,
        or_(i.repository_id.is_(None), _in_repository(i.repository_id, scope)),
    )
    return [IncidentRow(*row) for row in await conn.execute(stmt)]
