"""Upstream errors: one small tree. The message never carries a token; bodies are cut short and redacted."""

from __future__ import annotations

from datetime import timedelta

from hyperpage.logging import redact_text

BODY_LIMIT = 300


class ToolError(Exception):
    """An upstream call failed; `str()` is "{status}: {message}" like python-gitlab's GitlabError."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None) -> None:
        self.message = redact_text(message)
        self.status_code = status_code
        self.body = redact_text(body[:BODY_LIMIT]) if body else None
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}" if self.status_code else self.message


class AuthFailed(ToolError):
    """401, or 403 that is not a rate limit: the token is wrong or lacks a scope."""


class NotFound(ToolError):
    """404: the repository, project or endpoint does not exist for this token."""


class RateLimited(ToolError):
    """Primary or secondary rate limit (or our own quota reserve); retry after `retry_after`."""

    def __init__(
        self, message: str, *, retry_after: timedelta, status_code: int | None = None, body: str | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, body=body)


class UpstreamServerError(ToolError):
    """5xx still failing after the retries."""


class UpstreamUnavailable(ToolError):
    """Timeouts or connection errors still failing after the retries."""


class CircuitOpen(ToolError):
    """The connection failed repeatedly; calls are refused until the breaker half-opens."""


class BadPayload(ToolError):
    """Malformed JSON or a shape we do not understand: fails the run, never the worker."""


class PaginationLoop(BadPayload):
    """A `next` link or `X-Next-Page` points at a page already read."""


class ForeignLink(ToolError):
    """A link points outside the configured API origin; it is not followed (the token would go along)."""
