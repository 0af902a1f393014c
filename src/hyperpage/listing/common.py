"""What every synced list shares: where its rows come from, the fields that say so, and the common filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause

from hyperpage.listing.spec import Filter, Out, equals, since
from hyperpage.tools.models import Connection, Repository


def source_of(model: Any) -> FromClause:
    """The synced table joined to its connection and (when it has one) its repository."""
    table: FromClause = model.__table__
    return table.join(Connection.__table__, Connection.id == model.connection_id).outerjoin(
        Repository.__table__, Repository.id == model.repository_id
    )


def source_columns(model: Any) -> tuple[Out, ...]:
    """The first fields of every synced row: id, tool, connection name and id, repository full name."""
    return (
        Out("id", model.id),
        Out("tool", Connection.tool),
        Out("connection", Connection.name),
        Out("connection_id", model.connection_id),
        Out("repository", Repository.full_name),
    )


def common_filters(model: Any) -> tuple[Filter, ...]:
    """The filters of ListQuery: tool, connection, repository, updated_since."""
    return (
        equals("tool", Connection.tool),
        equals("connection", model.connection_id),
        equals("repository", Repository.full_name),
        since("updated_since", model.updated_at),
    )
