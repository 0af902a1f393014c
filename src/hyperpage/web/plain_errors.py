"""Sync errors in plain words for the dashboard. The sync stores `"{status}: {message}"` or a short phrase."""

from __future__ import annotations

import re

_STATUS = re.compile(r"^\s*(\d{3})\s*:")
_BY_STATUS = {
    401: "The upstream refused the token: check that it is valid and not expired.",
    403: "Access denied: the token lacks a permission (scope), or the upstream is throttling it.",
    404: "Not found: the repository or project does not exist, or this token cannot see it.",
    429: "Rate limited by the upstream: the sync waits for the quota to reset and tries again.",
}
_BY_WORDS = (
    (("circuit",), "Paused after repeated failures; it will try again by itself shortly."),
    (("timeout", "timed out"), "The upstream did not answer in time."),
    (("connect", "unreachable", "name resolution", "dns"), "The upstream could not be reached (network)."),
    (("rate limit", "quota"), "Rate limited: the sync waits for the quota to reset and tries again."),
    (("cancelled",), "The run was stopped because the worker was shutting down; it runs again."),
    (("internal error",), "Hyperpage failed to process the answer; the worker log has the details."),
    (("malformed", "payload", "json"), "The upstream answered with data Hyperpage could not read."),
)


def plain_error(raw: str | None) -> str | None:
    """One sentence saying what went wrong and what happens next; None when there is no error."""
    if not raw:
        return None
    match = _STATUS.match(raw)
    if match:
        status = int(match.group(1))
        if status in _BY_STATUS:
            return _BY_STATUS[status]
        if status >= 500:
            return f"The upstream server failed (HTTP {status}) even after retries."
    lowered = raw.lower()
    for words, sentence in _BY_WORDS:
        if any(word in lowered for word in words):
            return sentence
    return None
