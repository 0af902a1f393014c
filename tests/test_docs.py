"""The documentation stays true: every setting and every CLI command is documented."""

from __future__ import annotations

import re
import subprocess
import sys

import typer

from hyperpage.cli import app
from hyperpage.config import FILE_SECRETS, Settings
from tests.tooling import REPO_ROOT


def test_every_setting_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
    expected = {name.upper() for name in Settings.model_fields} | {f"{n.upper()}_FILE" for n in FILE_SECRETS}
    missing = sorted(expected - documented)
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def _commands(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if hasattr(cmd, "commands"):
            found.extend(_commands(cmd, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_in_docs_cli_md() -> None:
    text = (REPO_ROOT / "docs" / "cli.md").read_text()
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    missing = [" ".join(p) for p in _commands(root) if not re.search(rf"`hyperpage {' '.join(p)}[` ]", text)]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_docs_cli_md_reference_is_what_the_commands_help_says() -> None:
    script = REPO_ROOT / "scripts" / "gen-cli-docs.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr


def _source_parts() -> list[str]:
    """Every module and package of src/hyperpage as the map names it: `server.py`, `auth/`, `github/`."""
    root = REPO_ROOT / "src" / "hyperpage"
    parts = {p.name for p in root.glob("*.py") if p.name != "__init__.py"}
    parts |= {f"{p.parent.name}/" for p in root.rglob("__init__.py") if p.parent != root}
    return sorted(parts)


def _layout_block() -> str:
    text = (REPO_ROOT / "docs" / "development.md").read_text()
    match = re.search(r"## Layout\n.*?```\n(.*?)```", text, re.S)
    assert match, "docs/development.md: no code block under '## Layout'"
    return match.group(1)


def test_docs_development_md_maps_every_module_and_package() -> None:
    block = _layout_block()
    missing = [part for part in _source_parts() if not re.search(rf"(?<![\w.]){re.escape(part)}", block)]
    assert not missing, f"docs/development.md, Layout, does not describe: {missing}"


def test_docs_development_md_maps_nothing_that_is_gone() -> None:
    root = REPO_ROOT / "src" / "hyperpage"
    listed = re.findall(r"^  (\w+\.py|\w+/)", _layout_block().split("\ntests/", 1)[0], re.M)
    assert listed, "no src/hyperpage entries found in the Layout block"
    gone = [entry for entry in listed if not (root / entry).exists()]
    assert not gone, f"docs/development.md, Layout, describes what src/hyperpage no longer has: {gone}"
