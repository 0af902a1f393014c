"""Insights (issue 17): deployments and the commits each brought to its environment, pull/merge request
timelines and reviews, incidents. New tables only; nothing existing changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:56:29.363915
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hyperpage.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The API response cache (db/changes.py) drops /api/v1/insights/* answers when these change: on PostgreSQL through
# the statement triggers of migration 0002's function; SQLite needs nothing (PRAGMA data_version).
NOTIFYING = ("deployments", "deployment_commits", "pull_request_timelines", "pull_request_reviews", "incidents")


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("environment", sa.String(length=255), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("original_status", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=True),
        sa.Column("web_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("commits_known", sa.Boolean(), nullable=False),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('DEPLOYMENT', 'WORKFLOW_RUN')", name=op.f("ck_deployments_source")),
        sa.CheckConstraint(
            "status IN ('SUCCESS', 'FAILURE', 'RUNNING', 'CANCELLED')", name=op.f("ck_deployments_status")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_deployments_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_deployments_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_deployments_connection_id_external_id")),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index("ix_deployments_production_created_at", ["production", "created_at"], unique=False)
        batch_op.create_index(
            "ix_deployments_repository_id_environment_created_at",
            ["repository_id", "environment", "created_at"],
            unique=False,
        )

    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("environment", sa.String(length=255), nullable=True),
        sa.Column("web_url", sa.String(length=2048), nullable=True),
        sa.Column("opened_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_incidents_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_incidents_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_incidents_connection_id_external_id")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_opened_at", ["opened_at"], unique=False)

    op.create_table(
        "deployment_commits",
        sa.Column("deployment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_commits_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deployment_id", "sha", name=op.f("pk_deployment_commits")),
    )
    with op.batch_alter_table("deployment_commits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deployment_commits_sha"), ["sha"], unique=False)

    op.create_table(
        "pull_request_reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pull_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=255), nullable=True),
        sa.Column("reviewer_is_bot", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_pull_request_reviews_pull_request_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_request_reviews")),
        sa.UniqueConstraint(
            "pull_request_id", "external_id", name=op.f("uq_pull_request_reviews_pull_request_id_external_id")
        ),
    )
    op.create_table(
        "pull_request_timelines",
        sa.Column("pull_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_commit_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("ready_for_review_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("first_review_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("first_reviewer", sa.String(length=255), nullable=True),
        sa.Column("merge_commit_sha", sa.String(length=64), nullable=True),
        sa.Column("reverts_number", sa.Integer(), nullable=True),
        sa.Column("reverts_sha", sa.String(length=64), nullable=True),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_pull_request_timelines_pull_request_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pull_request_id", name=op.f("pk_pull_request_timelines")),
    )
    with op.batch_alter_table("pull_request_timelines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_request_timelines_merge_commit_sha"), ["merge_commit_sha"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        for table in NOTIFYING:
            op.execute(
                f"CREATE TRIGGER {table}_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION hyperpage_notify_data_changed()"
            )


def downgrade() -> None:
    # dropping a table drops its triggers
    with op.batch_alter_table("pull_request_timelines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pull_request_timelines_merge_commit_sha"))

    op.drop_table("pull_request_timelines")
    op.drop_table("pull_request_reviews")
    with op.batch_alter_table("deployment_commits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_commits_sha"))

    op.drop_table("deployment_commits")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_opened_at")

    op.drop_table("incidents")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_deployments_repository_id_environment_created_at")
        batch_op.drop_index("ix_deployments_production_created_at")

    op.drop_table("deployments")
