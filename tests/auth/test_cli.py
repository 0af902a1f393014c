"""`hyperpage tokens create|list|revoke` on both engines: the secret once on stdout, then refused once revoked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from hyperpage.cli import app
from hyperpage.config import get_settings
from hyperpage.main import create_app
from tests.conftest import make_settings

runner = CliRunner()


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _status(db_url: str, secret: str) -> int:
    return asyncio.run(_ask(db_url, secret))


async def _ask(db_url: str, secret: str) -> int:
    app = create_app(make_settings(db_url, hyperpage_auth="token", hyperpage_scheduler=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return (await http.get("/api/v1/pipelines", headers={"Authorization": f"Bearer {secret}"})).status_code


def test_create_list_revoke(cli_db: str) -> None:
    made = runner.invoke(app, ["tokens", "create", "nightly-report", "--role", "admin", "--expires-in-days", "7"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("hp_") and "\n" not in secret  # stdout holds the secret and nothing else
    listed = json.loads(runner.invoke(app, ["tokens", "list", "--json"]).stdout)["tokens"]
    assert [(t["name"], t["role"], t["status"]) for t in listed] == [("nightly-report", "admin", "active")]
    assert listed[0]["expires_at"] and listed[0]["created_by"].startswith("cli:")
    assert secret not in json.dumps(listed)
    assert _status(cli_db, secret) == 200
    revoked = runner.invoke(app, ["tokens", "revoke", str(listed[0]["id"])])
    assert revoked.exit_code == 0 and "revoked token" in revoked.stdout
    assert _status(cli_db, secret) == 401
    assert "revoked" in runner.invoke(app, ["tokens", "list"]).stdout
    missing = runner.invoke(app, ["tokens", "revoke", "424242"])
    assert missing.exit_code == 1 and "no API token with id 424242" in missing.output
