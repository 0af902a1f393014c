"""Change notifications: PostgreSQL statement triggers NOTIFY hyperpage_data_changed (API response cache).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:00:00

The web processes cache list pages and LISTEN on this channel to drop them when the data changes. Statement-level
triggers cost one notification per statement (PostgreSQL folds identical ones within a transaction), not per row.
SQLite needs nothing: the cache there reads `PRAGMA data_version`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables the cached list endpoints read.
TABLES = ("connections", "repositories", "pull_requests", "pipelines", "issues")
FUNCTION = "hyperpage_notify_data_changed"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('hyperpage_data_changed', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$""")
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_changed ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
