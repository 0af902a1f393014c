"""Imports every model so that Base.metadata is complete (Alembic and the migration tools read it)."""

from hyperpage.auth.models import ApiToken, AuthSession
from hyperpage.db.app_state import AppState
from hyperpage.db.base import Base
from hyperpage.insights.models import Deployment, DeploymentCommit, Incident, PullRequestReview, PullRequestTimeline
from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncReject, SyncRun, SyncState
from hyperpage.tools.models import Connection, Repository, ToolConfig

__all__ = [
    "ApiToken",
    "AppState",
    "AuthSession",
    "Base",
    "Connection",
    "Deployment",
    "DeploymentCommit",
    "Incident",
    "Issue",
    "Pipeline",
    "PullRequest",
    "PullRequestReview",
    "PullRequestTimeline",
    "RateLimitSample",
    "Repository",
    "SyncReject",
    "SyncRun",
    "SyncState",
    "ToolConfig",
]
