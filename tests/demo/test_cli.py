"""`hyperpage demo upstream` serves the three APIs from a separate process on loopback."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.demo.conftest import GH, GL, JIRA
from tests.tooling import free_port


def test_demo_upstream_command_serves_all_three_services() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hyperpage.cli",
            "demo",
            "upstream",
            "--port",
            str(port),
            "--repos",
            "2",
            "--big-repo-prs",
            "0",
            "--activity",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/_fake/world", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("fake upstream did not come up")
        assert len(httpx.get(f"{base}/_fake/world").json()["github"]["repos"]) == 2
        assert httpx.get(f"{base}/github/user", headers=GH).status_code == 200
        assert httpx.get(f"{base}/gitlab/api/v4/user", headers=GL).status_code == 200
        assert httpx.get(f"{base}/jira/rest/api/3/serverInfo", headers=JIRA).json()["deploymentType"] == "Cloud"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"GITHUB_API_URL={base}/github" in out
