"""mypy --strict (the [tool.mypy] config in pyproject.toml) finds no error in src/; `make typecheck` runs the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_finds_no_error_in_src() -> None:
    # mypy is installed with the test extras; run as a module so the venv's own copy (and its stubs) is used.
    # The incremental cache (.mypy_cache, git-ignored) makes a rerun take seconds instead of a minute.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
