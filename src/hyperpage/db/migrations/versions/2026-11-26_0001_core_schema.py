"""Core schema: connections, repositories, reviews, pipelines, issues, rate limits, sync, state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 06:57:47.170734
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hyperpage.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_state",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_state")),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tool", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", hyperpage.db.base.TZDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", hyperpage.db.base.TZDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("tool IN ('github', 'gitlab', 'jira')", name=op.f("ck_connections_tool")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("tool", "name", name=op.f("uq_connections_tool_name")),
    )
    op.create_table(
        "tool_configs",
        sa.Column("tool", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("config", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tool IN ('github', 'gitlab', 'jira')", name=op.f("ck_tool_configs_tool")),
        sa.PrimaryKeyConstraint("tool", name=op.f("pk_tool_configs")),
    )
    op.create_table(
        "rate_limit_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("reset_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("observed_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_rate_limit_samples_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_samples")),
    )
    with op.batch_alter_table("rate_limit_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rate_limit_samples_connection_id_resource_observed_at",
            ["connection_id", "resource", "observed_at"],
            unique=False,
        )
        batch_op.create_index("ix_rate_limit_samples_observed_at", ["observed_at"], unique=False)

    op.create_table(
        "repositories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("web_url", sa.String(length=500), nullable=True),
        sa.Column("default_branch", sa.String(length=255), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", hyperpage.db.base.TZDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", hyperpage.db.base.TZDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_repositories_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_repositories_connection_id_external_id")),
    )
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repositories_full_name"), ["full_name"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("high_water_mark", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_full_sync_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("next_run_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_state_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
        sa.UniqueConstraint(
            "connection_id", "resource", "scope", name=op.f("uq_sync_state_connection_id_resource_scope")
        ),
    )
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_state_next_run_at"), ["next_run_at"], unique=False)

    op.create_table(
        "issues",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status_category", sa.String(length=16), nullable=False),
        sa.Column("original_status", sa.String(length=100), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("reporter", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=64), nullable=True),
        sa.Column("issue_type", sa.String(length=64), nullable=True),
        sa.Column("labels", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("web_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status_category IN ('TODO', 'IN_PROGRESS', 'DONE')", name=op.f("ck_issues_status_category")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_issues_connection_id_connections"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_issues_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_issues_connection_id_external_id")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issues_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_repository_id"), ["repository_id"], unique=False)
        batch_op.create_index("ix_issues_status_category_updated_at", ["status_category", "updated_at"], unique=False)
        batch_op.create_index("ix_issues_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "pipelines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("original_status", sa.String(length=32), nullable=False),
        sa.Column("original_result", sa.String(length=32), nullable=True),
        sa.Column("ref", sa.String(length=255), nullable=True),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("web_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("started_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('SUCCESS', 'FAILURE', 'CANCELLED', 'SKIPPED')",
            name=op.f("ck_pipelines_result"),
        ),
        sa.CheckConstraint("status IN ('QUEUED', 'IN_PROGRESS', 'DONE')", name=op.f("ck_pipelines_status")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_pipelines_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_pipelines_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_pipelines_connection_id_external_id")),
    )
    with op.batch_alter_table("pipelines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipelines_repository_id"), ["repository_id"], unique=False)
        batch_op.create_index("ix_pipelines_status_result", ["status", "result"], unique=False)
        batch_op.create_index("ix_pipelines_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "pull_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("original_state", sa.String(length=32), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("requested_reviewers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("labels", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("source_branch", sa.String(length=255), nullable=True),
        sa.Column("target_branch", sa.String(length=255), nullable=True),
        sa.Column("merge_state", sa.String(length=32), nullable=True),
        sa.Column("web_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("merged_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("synced_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('OPEN', 'CLOSED', 'MERGED')", name=op.f("ck_pull_requests_state")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_pull_requests_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_pull_requests_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_requests")),
        sa.UniqueConstraint("connection_id", "external_id", name=op.f("uq_pull_requests_connection_id_external_id")),
    )
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pull_requests_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_pull_requests_repository_id"), ["repository_id"], unique=False)
        batch_op.create_index("ix_pull_requests_state_updated_at", ["state", "updated_at"], unique=False)
        batch_op.create_index("ix_pull_requests_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sync_state_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("requests_made", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("items_upserted", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('RUNNING', 'SUCCESS', 'FAILED')", name=op.f("ck_sync_runs_status")),
        sa.ForeignKeyConstraint(
            ["sync_state_id"], ["sync_state.id"], name=op.f("fk_sync_runs_sync_state_id_sync_state"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_sync_state_id_started_at", ["sync_state_id", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_sync_state_id_started_at")

    op.drop_table("sync_runs")
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_pull_requests_updated_at_id")
        batch_op.drop_index("ix_pull_requests_state_updated_at")
        batch_op.drop_index(batch_op.f("ix_pull_requests_repository_id"))
        batch_op.drop_index(batch_op.f("ix_pull_requests_author"))

    op.drop_table("pull_requests")
    with op.batch_alter_table("pipelines", schema=None) as batch_op:
        batch_op.drop_index("ix_pipelines_updated_at_id")
        batch_op.drop_index("ix_pipelines_status_result")
        batch_op.drop_index(batch_op.f("ix_pipelines_repository_id"))

    op.drop_table("pipelines")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index("ix_issues_updated_at_id")
        batch_op.drop_index("ix_issues_status_category_updated_at")
        batch_op.drop_index(batch_op.f("ix_issues_repository_id"))
        batch_op.drop_index(batch_op.f("ix_issues_key"))
        batch_op.drop_index(batch_op.f("ix_issues_assignee"))

    op.drop_table("issues")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_state_next_run_at"))

    op.drop_table("sync_state")
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repositories_full_name"))

    op.drop_table("repositories")
    with op.batch_alter_table("rate_limit_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limit_samples_observed_at")
        batch_op.drop_index("ix_rate_limit_samples_connection_id_resource_observed_at")

    op.drop_table("rate_limit_samples")
    op.drop_table("tool_configs")
    op.drop_table("connections")
    op.drop_table("app_state")
