"""Architecture rules for tools: an explicit registry, every resource has a runner, no tool imports another."""

from __future__ import annotations

import ast
from pathlib import Path

from hyperpage.tools.base import RESOURCES
from hyperpage.tools.models import TOOLS
from hyperpage.tools.registry import DEFAULT_TOOLS

TOOLS_DIR = Path(__file__).resolve().parents[2] / "src" / "hyperpage" / "tools"


def test_registry_matches_the_database_tools_and_every_resource_has_a_runner() -> None:
    assert tuple(t.slug for t in DEFAULT_TOOLS) == TOOLS
    for tool in DEFAULT_TOOLS:
        assert set(tool.runners) == set(tool.resources) and set(tool.resources) <= set(RESOURCES)
        assert tool.scoped <= set(tool.resources)
        for role in ("client", "pager", "sync", "mappers"):
            assert (TOOLS_DIR / tool.slug / f"{role}.py").is_file(), f"{tool.slug}/{role}.py"


def test_a_tool_never_imports_another_tool() -> None:
    for tool in TOOLS:
        for path in (TOOLS_DIR / tool).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                for name in names:
                    for other in set(TOOLS) - {tool}:
                        assert not name.startswith(f"hyperpage.tools.{other}"), f"{path} imports {name}"
