"""`hyperpage sync now`, `sync prune-samples` and `tools list` as a user runs them (sync now against the fake upstream
process)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from hyperpage.db import schema
from tests import factories as f
from tests.integration.processes import FakeUpstreamProcess, worker_env
from tests.tooling import REPO_ROOT


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperpage.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("db_engine_name", ["sqlite"])
def test_sync_now_and_tools_list(db_url: str, tmp_path: Path) -> None:
    fake = FakeUpstreamProcess("--repos", "2", "--big-repo-prs", "0", "--prs-per-repo", "3")
    try:
        repos = list(fake.world()["github"]["repos"])
        env = {**worker_env(db_url, fake, repos), "COLUMNS": "250"}
        listed = run("tools", "list", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "github" in listed.stdout and "never" in listed.stdout and env["GITHUB_TOKEN"] not in listed.stdout

        synced = run("sync", "now", "--tool", "github", env=env)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert "Sync cycle" in synced.stdout and "0 failed" in synced.stdout
        assert env["GITHUB_TOKEN"] not in synced.stdout + synced.stderr

        listed = run("tools", "list", env=env)
        assert "pull_requests" in listed.stdout and listed.stdout.count("never") < 4

        fake.fault(kind="server_error", service="github", path="/repos/*/pulls", count=None)
        failing = run("sync", "now", "--resource", "pull_requests", env={**env, "SYNC_BACKOFF_BASE_SECONDS": "0.01"})
        assert failing.returncode == 1 and "FAILED: 500" in failing.stdout
        assert run("sync", "now", "--tool", "bitbucket", env=env).returncode == 2
    finally:
        fake.stop()


def test_sync_now_without_tools_says_how_to_enable_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    schema.upgrade(url)
    result = run("sync", "now", env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "ENABLE_GITHUB" in result.stderr
    bad = run("sync", "now", env={"DATABASE_URL": url, "ENABLE_GITHUB": "true", "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2 and "GITHUB_TOKEN: required when ENABLE_GITHUB=true" in bad.stderr


def test_prune_samples_deletes_old_samples_and_keeps_each_newest(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hyperpage.cli import app
    from hyperpage.config import get_settings
    from tests.rate_limits.test_retention import remaining_by_series

    now = f.now()

    async def seed() -> int:
        async with f.db_session(db_url) as s:
            gh = await f.add_connection(s, tool="github", name="gh")
            for remaining, age in ((1, 50), (2, 20), (3, 5), (4, 0)):
                await f.add_rate_limit_sample(
                    s, connection=gh, resource="core", remaining=remaining, observed_at=now - timedelta(days=age)
                )
            await f.add_rate_limit_sample(
                s, connection=gh, resource="search", remaining=9, observed_at=now - timedelta(days=90)
            )
            return gh.id

    gh_id = asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        default = runner.invoke(app, ["sync", "prune-samples"])  # HYPERPAGE_RATE_LIMIT_RETENTION_DAYS: 30
        assert default.exit_code == 0, default.output
        assert "deleted 1 rate-limit samples older than 30 days" in default.output
        week = runner.invoke(app, ["sync", "prune-samples", "--days", "7"])
        assert week.exit_code == 0 and "deleted 1 rate-limit samples older than 7 days" in week.output
        assert asyncio.run(remaining_by_series(db_url)) == {(gh_id, "core"): [3, 4], (gh_id, "search"): [9]}
        zero = runner.invoke(app, ["sync", "prune-samples", "--days", "0"])
        assert zero.exit_code == 2 and "--days" in zero.output
    finally:
        get_settings.cache_clear()


def test_prune_samples_names_an_unusable_database(tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT / "src")}  # this checkout's code
    bare = run("sync", "prune-samples", env={**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'bare.db'}"})
    assert bare.returncode == 1
    assert bare.stderr.strip() == "hyperpage: database error: no such table: rate_limit_samples"
    down = run(
        "sync", "prune-samples", env={**base, "DATABASE_URL": "postgresql://app:topsecret@127.0.0.1:1/hyperpage"}
    )
    assert down.returncode == 1 and "database unreachable" in down.stderr and "topsecret" not in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
