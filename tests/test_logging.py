"""Log lines never contain secret values: registered secrets, URL passwords and secret-named fields."""

from __future__ import annotations

import json
import logging

from hyperpage.config import load_settings
from hyperpage.logging import configure_logging, get_logger, redact_text, register_secret


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
