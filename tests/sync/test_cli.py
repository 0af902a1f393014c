"""`hyperpage sync now` and `hyperpage tools list` as a user runs them, against the fake upstream process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hyperpage.db import schema
from tests.integration.processes import FakeUpstreamProcess, worker_env


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hyperpage.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


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
