"""What the insights are computed from: deployments (and the commits each brought to its environment), the
review timeline of each pull/merge request, and incidents.

Each row is written by a tool's sync (tools/github, tools/gitlab, tools/jira); the metrics (insights/metrics.py)
only read. Times are UTC; a missing time is NULL, never a guess, so the metrics can leave the item out.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hyperpage.db.base import Base, BigId


class DeploymentStatus(StrEnum):
    """The last status a deployment reported, mapped from GitHub's deployment statuses / workflow
    conclusions and GitLab's deployment statuses."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    RUNNING = "RUNNING"  # queued, pending, in_progress, created
    CANCELLED = "CANCELLED"  # GitLab canceled/skipped, GitHub inactive before success


class DeploymentSource(StrEnum):
    DEPLOYMENT = "DEPLOYMENT"  # GitHub Deployments API / GitLab deployments
    WORKFLOW_RUN = "WORKFLOW_RUN"  # a GitHub Actions run matched by workflow and environment


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        CheckConstraint("status IN ('SUCCESS', 'FAILURE', 'RUNNING', 'CANCELLED')", name="status"),
        CheckConstraint("source IN ('DEPLOYMENT', 'WORKFLOW_RUN')", name="source"),
        Index("ix_deployments_repository_id_environment_created_at", "repository_id", "environment", "created_at"),
        Index("ix_deployments_production_created_at", "production", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    repository_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(String(64))
    environment: Mapped[str] = mapped_column(String(255))
    # production per the connection's configured production environment names (or the provider's own
    # `production_environment` / GitLab's environment tier)
    production: Mapped[bool] = mapped_column(Boolean, default=False)
    sha: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16))
    original_status: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    creator: Mapped[str | None] = mapped_column(String(255))
    web_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column()
    # when the last status was reported (success or failure); NULL while running
    finished_at: Mapped[datetime | None] = mapped_column()
    # the compare between this deployment and the previous one of the same environment has been stored
    commits_known: Mapped[bool] = mapped_column(Boolean, default=False)
    synced_at: Mapped[datetime] = mapped_column()


class DeploymentCommit(Base):
    """A commit a deployment brought to its environment: the compare range from the previous deployment of the
    same repository and environment (exclusive) to this deployment's sha (inclusive)."""

    __tablename__ = "deployment_commits"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class PullRequestTimeline(Base):
    """The moments of one pull/merge request that its cycle time is made of (one row per pull_requests row)."""

    __tablename__ = "pull_request_timelines"

    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"), primary_key=True)
    first_commit_at: Mapped[datetime | None] = mapped_column()  # authored time of the earliest commit
    ready_for_review_at: Mapped[datetime | None] = mapped_column()  # last draft -> ready, else created_at
    # the first review by someone other than the author and not a bot (see pull_request_reviews)
    first_review_at: Mapped[datetime | None] = mapped_column()
    first_reviewer: Mapped[str | None] = mapped_column(String(255))
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64), index=True)
    # a revert: the number of the pull/merge request it reverts, and/or the commit it reverts
    reverts_number: Mapped[int | None] = mapped_column(Integer)
    reverts_sha: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column()


class PullRequestReview(Base):
    __tablename__ = "pull_request_reviews"
    __table_args__ = (UniqueConstraint("pull_request_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str | None] = mapped_column(String(255))
    reviewer_is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32))  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    submitted_at: Mapped[datetime] = mapped_column()


class Incident(Base):
    """An incident: a Jira issue of a configured type/label, a GitHub/GitLab issue with a configured label, or a
    GitLab incident."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        Index("ix_incidents_opened_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    repository_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(Text)
    # the environment it hit when the source says so (a label such as `env:production`); NULL = production
    environment: Mapped[str | None] = mapped_column(String(255))
    web_url: Mapped[str | None] = mapped_column(String(2048))
    opened_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    synced_at: Mapped[datetime] = mapped_column()
