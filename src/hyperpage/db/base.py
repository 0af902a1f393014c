"""Declarative base, column types shared by every model, and constraint naming."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names so Alembic migrations (and batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" aliases the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


class TZDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Hyperpage stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # raw text written by another SQLite client
        when: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: TZDateTime(), dict[str, Any]: JSONType, list[str]: JSONType}


class TimestampMixin:
    """created_at/updated_at maintained by the database and the ORM."""

    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class SyncedRow:
    """The columns every row copied from an upstream tool has: which item of which connection (and repository)
    it is, and when we last wrote it. The three synced tables (reviews, pipelines, issues) add their own columns
    between these; `sort_order` keeps the shared ones first and `synced_at` last, as the migrations made them."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-1)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), sort_order=-1)
    repository_id: Mapped[int | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="SET NULL"), index=True, sort_order=-1
    )
    external_id: Mapped[str] = mapped_column(String(64), sort_order=-1)
    synced_at: Mapped[datetime] = mapped_column(sort_order=1)


def synced_table_args(table: str, *own: Any) -> tuple[Any, ...]:
    """A synced table's keys: one row per upstream item and connection (what the upsert conflicts on), and the
    (updated_at, id) index every list pages by; then the table's own constraints and indexes."""
    return (
        UniqueConstraint("connection_id", "external_id"),
        Index(f"ix_{table}_updated_at_id", "updated_at", "id"),
        *own,
    )
