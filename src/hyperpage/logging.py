"""Structured logging (structlog over the standard library) that never writes secret values."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import structlog

from hyperpage.config import Settings

_SECRET_KEYS = re.compile(r"(token|password|passwd|secret|authorization|api_key|cookie)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)", re.IGNORECASE)
# https://TOKEN@host: a user name alone is how several services take a token (RFC 3986 section 3.2.1)
_URL_USER_ONLY = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+)(?=@)", re.IGNORECASE)
_known_secrets: set[str] = set()


def register_secret(value: object) -> None:
    """Remember a secret value so that it is masked wherever it appears in a log line."""
    if isinstance(value, str) and len(value) >= 4:  # shorter strings would mask ordinary words
        _known_secrets.add(value)


def redact_text(text: str) -> str:
    """Mask registered secrets and URL passwords in a string."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _URL_USER_ONLY.sub(r"\g<scheme>***", _URL_PASSWORD.sub(r"\g<scheme>***", text))


def strip_userinfo(url: str) -> str:
    """The URL without `user:password@`, for anything shown to people or stored (RFC 3986 section 3.2.1)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def register_url_credentials(url: str | None) -> None:
    """Mask the user info of a configured URL wherever it shows up in a log line, even outside the URL."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_secret(unquote(parts.password))
    elif parts.username:
        register_secret(parts.username)
        register_secret(unquote(parts.username))


def _redact(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key) and isinstance(value, str | bytes):
        return "***"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: _redact(v, k) for k, v in event_dict.items()}


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib (uvicorn, alembic) logs through one renderer: console or JSON."""
    for secret in settings.secret_values():
        register_secret(secret)
    register_secret(settings.sqlalchemy_url.password)
    for url in settings.configured_urls():
        register_url_credentials(url)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # filter_by_level first: below LOG_LEVEL a call returns before the processors (redaction's regexes
        # ran on every access-log line even when the level then dropped it)
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Alembic announces its plugins at INFO on every import; keep its migration lines only.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests with more context


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
