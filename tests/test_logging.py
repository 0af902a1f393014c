"""Log lines never contain secret values: registered secrets, URL passwords and secret-named fields; one access
line per request at its level."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.types import Message, Receive, Scope, Send

from hyperpage.config import load_settings
from hyperpage.logging import configure_logging, get_logger, redact_text, register_secret
from hyperpage.middleware import ObservabilityMiddleware


def test_known_secrets_and_url_passwords_are_masked() -> None:
    register_secret("ghp_live_token_123456")
    text = redact_text("calling with ghp_live_token_123456 on postgresql://app:hunter2@db:5432/x")
    assert "ghp_live_token_123456" not in text
    assert "hunter2" not in text
    assert "postgresql://app:***@db:5432/x" in text


def test_json_logs_redact_fields_and_values(capfd) -> None:
    settings = load_settings(database_url="postgresql://app:pa55word@db/x", log_format="json")
    configure_logging(settings)
    try:
        get_logger("test").warning(
            "connecting",
            url="postgresql://app:pa55word@db/x",
            api_token="abc123xyz",
            detail={"authorization": "Bearer zzz999"},
        )
        logging.getLogger("uvicorn.error").warning("raw message with pa55word inside")
        err = capfd.readouterr().err
    finally:
        configure_logging(load_settings())
    assert "pa55word" not in err
    assert "abc123xyz" not in err
    assert "zzz999" not in err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {r["event"] for r in records} >= {"connecting", "raw message with *** inside"}


async def _request(status: int) -> None:
    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    await ObservabilityMiddleware(app)({"type": "http", "method": "GET", "path": "/x", "headers": []}, receive, send)


@pytest.mark.parametrize(("level", "logged"), [("INFO", [200, 503]), ("WARNING", [503])])
async def test_one_access_line_per_request_and_server_errors_even_above_info(capfd, level, logged) -> None:
    configure_logging(load_settings(log_format="json", log_level=level))
    try:
        for status in (200, 503):
            await _request(status)
        err = capfd.readouterr().err
    finally:
        configure_logging(load_settings())
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [r["status"] for r in records if r["event"] == "request"] == logged
