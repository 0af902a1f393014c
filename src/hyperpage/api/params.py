"""Query parameters and documented error responses shared by the data API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from hyperpage.api.caching import NOT_MODIFIED_DOC
from hyperpage.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from hyperpage.api.validation import DbId, RequestModel


class Tool(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    JIRA = "jira"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_cursor`.")
    message: str = Field(description="What was wrong, in words.")
    details: list[dict[str, Any]] | None = Field(None, description="Per-field problems, when there are several.")


class ErrorBody(BaseModel):
    """The one error shape of the whole API."""

    error: ErrorDetail


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


RATE_LIMITED = _err("Too many requests from this client; `Retry-After` says when to try again.")

LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: NOT_MODIFIED_DOC,
    400: _err("Malformed or mismatched `cursor`."),
    422: _err("A parameter is invalid: unknown filter value, `limit` out of 1-200, unknown parameter."),
    429: RATE_LIMITED,
}

ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _err("The request body is not valid JSON."),
    401: _err("Not signed in, or the token is wrong, revoked or expired (`WWW-Authenticate` says which)."),
    403: _err("Signed in with role viewer: admin actions need role admin."),
    404: _err("No such tool or sync job."),
    422: _err("The request body or a parameter is invalid."),
    429: RATE_LIMITED,
}


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
        None, max_length=200,
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
        # pydantic would also take "0.5" as a Unix timestamp; the documented format is ISO 8601 only
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("expected an ISO 8601 date-time such as 2026-11-01T12:00:00Z") from None
        return value

    def since_utc(self) -> datetime | None:
        # already UTC: RequestModel converted it (and refused instants that leave years 1-9999 in UTC)
        return self.updated_since
