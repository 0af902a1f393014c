"""The last successful backup, kept in app_state by `backup create` and exported on each metrics scrape.

The backup runs in a CronJob pod that Prometheus never scrapes; writing the result into the database lets
every web replica export it, so the "backup older than 26 h" alert works with any number of replicas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI

from hyperpage import metrics
from hyperpage.backup.manifest import Manifest
from hyperpage.config import Settings
from hyperpage.db.app_state import get_state, set_state
from hyperpage.db.session import create_engine, make_sessionmaker, session_scope
from hyperpage.logging import get_logger, redact_text

STATE_KEY = "backup.last_success"
log = get_logger(__name__)


def state_value(manifest: Manifest, destination_url: str) -> dict[str, Any]:
    return {
        "id": manifest.id,
        "finished_at": manifest.finished_at,
        "size_bytes": manifest.size,
        "destination": redact_text(destination_url),
        "engine": manifest.engine,
    }


async def record_success(settings: Settings, manifest: Manifest, destination_url: str) -> None:
    engine = create_engine(settings)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            await set_state(session=session, key=STATE_KEY, value=state_value(manifest, destination_url))
    finally:
        await engine.dispose()


async def backup_scrape_hook(app: FastAPI) -> None:
    """Copy the last backup's time and size into the gauges (0 when no backup has succeeded yet)."""
    try:
        async with session_scope(app.state.sessionmaker) as session:
            value = await get_state(session=session, key=STATE_KEY)
    except Exception as exc:  # a scrape must not fail because the state table is unreadable
        log.warning("backup_state_unreadable", error=type(exc).__name__)
        return
    finished = datetime.fromisoformat(value["finished_at"]).timestamp() if value else 0.0
    metrics.BACKUP_LAST_SUCCESS.set(finished)
    metrics.BACKUP_LAST_SIZE.set(float(value["size_bytes"]) if value else 0.0)
