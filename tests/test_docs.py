"""The documentation stays true: every setting and every CLI command is documented."""

from __future__ import annotations

import re

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
