"""Helpers for tests that need external tools or local servers."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO_ROOT / ".tools"


def require_tool(name: str, *, hint: str | None = None) -> str:
    """Return the path of a command-line tool, or fail the test naming what is missing.

    Looks on PATH and in .tools/*/bin (private venvs such as checkov's). Never skips: a check that
    needs a tool runs, or fails loudly.
    """
    extra = [str(p) for p in sorted(TOOLS_DIR.glob("*/bin"))] if TOOLS_DIR.exists() else []
    path = shutil.which(name, path=os.pathsep.join([*extra, os.environ.get("PATH", "")]))
    if path is None:
        pytest.fail(
            f"required tool {name!r} is not installed; run `make deps` (scripts/deps/) to install it"
            + (f" ({hint})" if hint else ""),
            pytrace=False,
        )
    return path


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
