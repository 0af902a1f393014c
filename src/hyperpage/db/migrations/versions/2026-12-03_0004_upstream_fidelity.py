"""Upstream fidelity (issue 15): columns as wide as the providers allow, partial runs, rejected items.

Widened (PostgreSQL enforces VARCHAR lengths, SQLite does not; the sync now also refuses, on both engines
alike, a value longer than its column, see tools/base.py):
- issues.key 64 -> 1000: `owner/repo#n` (GitHub logins 39, repository names 100 characters) and GitLab's
  full reference `group/sub/.../project#n` (each path part up to 255, nested groups).
- repositories.full_name and sync_state.scope 300 -> 1000 (GitLab full paths); branch names
  (pull_requests.source_branch/target_branch, pipelines.ref, repositories.default_branch) 255 -> 1000:
  git itself puts no limit on a ref name.
- user names (assignee, reporter, author) 200 -> 255: GitLab usernames go up to 255.
- pipelines.name 300 -> 1000 (GitHub's display_title is a commit subject); issues.original_status 100 -> 255;
  pull_requests.merge_state 32 -> 64; every web_url 500 -> 2048.
New: sync_runs.status PARTIAL and sync_runs.items_rejected; the sync_rejects table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hyperpage.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, new length, nullable)
WIDENED = (
    ("issues", "key", 64, 1000, False),
    ("issues", "original_status", 100, 255, False),
    ("issues", "assignee", 200, 255, True),
    ("issues", "reporter", 200, 255, True),
    ("issues", "web_url", 500, 2048, True),
    ("pull_requests", "author", 200, 255, True),
    ("pull_requests", "source_branch", 255, 1000, True),
    ("pull_requests", "target_branch", 255, 1000, True),
    ("pull_requests", "merge_state", 32, 64, True),
    ("pull_requests", "web_url", 500, 2048, True),
    ("pipelines", "name", 300, 1000, True),
    ("pipelines", "ref", 255, 1000, True),
    ("pipelines", "web_url", 500, 2048, True),
    ("repositories", "full_name", 300, 1000, False),
    ("repositories", "web_url", 500, 2048, True),
    ("repositories", "default_branch", 255, 1000, True),
    ("sync_state", "scope", 300, 1000, False),
)
STATUS_OLD = "status IN ('RUNNING', 'SUCCESS', 'FAILED')"
STATUS_NEW = "status IN ('RUNNING', 'SUCCESS', 'PARTIAL', 'FAILED')"


def _resize(old_index: int, new_index: int) -> None:
    tables = dict.fromkeys(t for t, *_ in WIDENED)
    for table in tables:
        # Batch mode: PostgreSQL gets ALTER COLUMN ... TYPE, SQLite a rebuilt table (it cannot alter a column).
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, *lengths, nullable in WIDENED:
                if t == table:
                    batch_op.alter_column(
                        column,
                        existing_type=sa.String(length=lengths[old_index]),
                        type_=sa.String(length=lengths[new_index]),
                        existing_nullable=nullable,
                    )


def upgrade() -> None:
    _resize(0, 1)
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items_rejected", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint(batch_op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_sync_runs_status"), STATUS_NEW)
    op.create_table(
        "sync_rejects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sync_state_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("first_seen_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", hyperpage.db.base.TZDateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sync_state_id"],
            ["sync_state.id"],
            name=op.f("fk_sync_rejects_sync_state_id_sync_state"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rejects")),
        sa.UniqueConstraint("sync_state_id", "external_id", name=op.f("uq_sync_rejects_sync_state_id_external_id")),
    )


def downgrade() -> None:
    """Back to 0003. Rows whose values no longer fit the narrower columns make this fail on PostgreSQL
    (nothing is cut silently); PARTIAL runs become SUCCESS, their reject counts and sync_rejects go."""
    op.drop_table("sync_rejects")
    op.execute("UPDATE sync_runs SET status = 'SUCCESS' WHERE status = 'PARTIAL'")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_sync_runs_status"), STATUS_OLD)
        batch_op.drop_column("items_rejected")
    _resize(1, 0)
