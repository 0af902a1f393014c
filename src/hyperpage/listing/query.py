"""What every list accepts: the common filters, free-text search terms and the page size."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from hyperpage.validation import DbId, RequestModel, iso_only

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_SEARCH_TERMS = 8
LIKE_ESCAPE = "/"


class Tool(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    JIRA = "jira"


class ListQuery(RequestModel):
    """Parameters every list endpoint accepts. Unknown parameters are refused, so a typo is not ignored."""

    model_config = {"extra": "forbid"}

    tool: Tool | None = Field(None, description="Only rows from this upstream tool.")
    connection: DbId | None = Field(None, description="Only rows from this connection id (see /api/v1/tools).")
    repository: str | None = Field(
        None, min_length=1, max_length=300, description="Only this repository or project, by full name."
    )
    updated_since: datetime | None = Field(
        None, description="Only rows updated at or after this instant (ISO 8601; without offset means UTC)."
    )
    q: str | None = Field(
        None,
        max_length=200,
        description="Free-text search: every whitespace-separated term must appear (case-insensitive) in one of "
        "the searched fields.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page (1-200).")
    cursor: str | None = Field(
        None, max_length=500, description="Opaque `next_cursor` from the previous page of the same query."
    )

    @field_validator("updated_since", mode="before")
    @classmethod
    def _iso_only(cls, value: Any) -> Any:
        return iso_only(value, datetime, "an ISO 8601 date-time such as 2026-11-01T12:00:00Z")

    def since_utc(self) -> datetime | None:
        # already UTC: RequestModel converted it (and refused instants that leave years 1-9999 in UTC)
        return self.updated_since


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def case_insensitive(*fields: str) -> Any:
    """A list query's validator for its enum filters (states, statuses): `open` means OPEN."""
    return field_validator(*fields, mode="before")(_upper)


def search_terms(raw: str | None) -> list[str]:
    """Split free text into terms; every term must match somewhere (the original portal's rule)."""
    if not raw:
        return []
    return raw.split()[:MAX_SEARCH_TERMS]


def like_pattern(term: str) -> str:
    """The term as a literal LIKE operand: `%` and `_` match themselves (SQLAlchemy's autoescape, by hand,
    because the value is bound per request into a statement compiled once)."""
    escaped = term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return escaped
