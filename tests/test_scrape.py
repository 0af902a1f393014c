"""Scrape-time gauges are registered in hyperpage/scrape.py only, and each process kind gets its own set."""

from __future__ import annotations

import re
from pathlib import Path

from hyperpage.config import load_settings
from hyperpage.main import create_app
from hyperpage.scrape import WEB_HOOKS, WORKER_HOOKS
from hyperpage.sync.worker import create_worker_app

SRC = Path(__file__).resolve().parent.parent / "src" / "hyperpage"


def test_no_module_but_scrape_py_registers_hooks() -> None:
    # issue 19: the hooks were registered from main.py, api/router.py and sync/worker.py; one place now
    writers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"scrape_hooks\s*(=|\.(append|extend|insert)\()", path.read_text())
    )
    assert writers == ["scrape.py"]


def test_the_web_app_refreshes_every_db_gauge_and_the_worker_the_sync_ones(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hp.db'}")
    assert create_app(settings).state.scrape_hooks == list(WEB_HOOKS)
    assert create_worker_app(settings).state.scrape_hooks == list(WORKER_HOOKS)
    assert set(WORKER_HOOKS) < set(WEB_HOOKS)
