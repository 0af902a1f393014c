"""schemathesis against /openapi.json of a real server: no 5xx, every response matches the documented schema.

Checks: all of schemathesis' checks except `positive_data_acceptance`. That one expects every schema-valid
value to be accepted, which cannot hold for an opaque `cursor` (any string fits the schema, only ours decode)
nor for the original's `/api/rate-limit/{platform}`, which answers 400 PLATFORM_NOT_SUPPORTED by design.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.portal_server import serve
from tests.tooling import REPO_ROOT

ADMIN = "contract-test-admin-token-0123"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    server = serve(
        tmp_path, "contract", seeded=True, HYPERPAGE_RATE_LIMIT_PER_HOUR="100000000", HYPERPAGE_ADMIN_TOKEN=ADMIN
    )
    report = REPO_ROOT / "test-artifacts" / "schemathesis"
    try:
        run = subprocess.run(  # bounded: fixed seed, 20 examples per operation, 10 s per request
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                server.base_url + "/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "-n",
                "20",
                "--seed",
                "1",
                "--request-timeout",
                "10",
                "-H",
                f"Authorization: Bearer {ADMIN}",
                "--no-color",
                "--report",
                "junit",
                "--report-dir",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    finally:
        server.stop()
    summary = run.stdout[-4000:]
    assert run.returncode == 0, f"schemathesis found problems:\n{summary}\n{run.stderr[-2000:]}"
    assert " passed" in summary and "Tested: " in summary
    assert "500" not in server.logs(), server.logs()[-2000:]
