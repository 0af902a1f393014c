"""Documented error responses shared by the data API (the list parameters are in hyperpage.listing.query)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hyperpage.api.caching import NOT_MODIFIED_DOC


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_cursor`.")
    message: str = Field(description="What was wrong, in words.")
    details: list[dict[str, Any]] | None = Field(None, description="Per-field problems, when there are several.")


class ErrorBody(BaseModel):
    """The one error shape of the whole API."""

    error: ErrorDetail


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


RATE_LIMITED = error_doc("Too many requests from this client; `Retry-After` says when to try again.")

LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: NOT_MODIFIED_DOC,
    400: error_doc("Malformed or mismatched `cursor`."),
    422: error_doc("A parameter is invalid: unknown filter value, `limit` out of 1-200, unknown parameter."),
    429: RATE_LIMITED,
}

ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error_doc("The request body is not valid JSON."),
    401: error_doc("Not signed in, or the token is wrong, revoked or expired (`WWW-Authenticate` says which)."),
    403: error_doc("Signed in with role viewer: admin actions need role admin."),
    404: error_doc("No such tool or sync job."),
    422: error_doc("The request body or a parameter is invalid."),
    429: RATE_LIMITED,
}
