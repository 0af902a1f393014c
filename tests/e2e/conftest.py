"""Browser tests: a real `hyperpage serve` on 127.0.0.1 with inserted rows, driven through Debian's Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hyperpage.db import schema
from tests import factories as f
from tests.serverproc import ServerProcess
from tests.tooling import REPO_ROOT, require_tool

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


async def seed(db_url: str) -> None:
    now = f.now()
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="acme-github")
        gl = await f.add_connection(s, tool="gitlab", name="acme-gitlab")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gl, full_name="acme/api")
        for i in range(14):
            await f.add_pull_request(s, connection=gh if i % 2 else gl, repository=web if i % 2 else api,
                                     title=f"Improve module {i}", author="alice" if i % 3 else "bob",
                                     requested_reviewers=["carol"] if i % 4 == 0 else [],
                                     updated_at=now - timedelta(minutes=10 * i))
        await f.add_pull_request(s, connection=gh, repository=web, title="Fix login redirect loop",
                                 updated_at=now - timedelta(hours=5))
        for i, result in enumerate(["SUCCESS", "FAILURE", "SUCCESS", "FAILURE", "CANCELLED"]):
            await f.add_pipeline(s, connection=gh, repository=web, name=f"workflow-{i}", result=result,
                                 updated_at=now - timedelta(minutes=7 * i))
        for i in range(4):
            await f.add_issue(s, connection=gl, repository=api, key=f"#{100 + i}", title=f"Ticket {i}",
                              updated_at=now - timedelta(minutes=3 * i))
        for h in range(24):
            await f.add_rate_limit_sample(s, connection=gh, resource="core", remaining=4800 - 150 * h,
                                          observed_at=now - timedelta(hours=23 - h))
        await f.add_rate_limit_sample(s, connection=gl, resource="global", limit=2000, remaining=1500,
                                      observed_at=now)
        await f.add_sync_state(s, connection=gh, resource="pull_requests", last_success_at=now - timedelta(minutes=2))
        await f.add_sync_state(s, connection=gh, resource="rate_limits", interval_seconds=60,
                               last_success_at=now - timedelta(minutes=1))
        await f.add_sync_state(s, connection=gl, resource="pipelines", interval_seconds=300,
                               last_success_at=now - timedelta(hours=2),
                               last_error="GitLab answered 401 Unauthorized: the token was refused",
                               last_error_at=now - timedelta(minutes=3), consecutive_failures=5)


def _serve(tmp: Path, name: str, seeded: bool) -> ServerProcess:
    db = f"sqlite:///{tmp / (name + '.db')}"
    schema.upgrade(db)
    if seeded:
        asyncio.run(seed(db))
    env = {"DATABASE_URL": db, "HYPERPAGE_SCHEDULER": "false", "LOG_LEVEL": "WARNING"}
    server = ServerProcess(env=env).start(tmp / f"{name}.log")
    assert server.wait_status("/readyz", 200), server.logs()
    return server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    tmp = tmp_path_factory.mktemp("e2e")
    started: dict[str, ServerProcess] = {}
    try:
        started["data"] = _serve(tmp, "data", seeded=True)
        started["empty"] = _serve(tmp, "empty", seeded=False)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = require_tool("chromium", hint="scripts/deps/40-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Watched:
    """A page whose console errors and off-host requests are recorded, to be asserted empty."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watch = Watched(page)

    def guard(route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            watch.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    yield watch
    context.close()
