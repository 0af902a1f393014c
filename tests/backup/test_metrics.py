"""The last successful backup reaches /api/metrics through app_state, for the "backup older than 26 h" alert."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import httpx
from typer.testing import CliRunner

from hyperpage.backup.destinations import LocalDestination
from hyperpage.backup.retention import list_backups
from hyperpage.cli import app as cli
from hyperpage.config import get_settings
from hyperpage.main import create_app
from tests.conftest import make_settings


async def _scrape(db_url: str) -> dict[str, float]:
    web = create_app(make_settings(db_url))
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            text = (await http.get("/api/metrics")).text
    found = re.findall(r"^(hyperpage_backup_\w+) (\S+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


async def test_backup_create_feeds_the_last_success_gauges(db_url: str, local_dest: LocalDestination,
                                                           cli_env: None) -> None:
    assert await _scrape(db_url) == {"hyperpage_backup_last_success_timestamp_seconds": 0.0,
                                      "hyperpage_backup_last_size_bytes": 0.0}
    get_settings.cache_clear()
    # The CLI runs its own event loop, as it does in the CronJob: give it a thread.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["backup", "create"],
                                     env={"DATABASE_URL": db_url, "HYPERPAGE_BACKUP_DESTINATION": local_dest.url})
    assert result.exit_code == 0, result.output
    [manifest] = list_backups(local_dest)
    assert await _scrape(db_url) == {
        "hyperpage_backup_last_success_timestamp_seconds": datetime.fromisoformat(manifest.finished_at).timestamp(),
        "hyperpage_backup_last_size_bytes": float(manifest.size),
    }
