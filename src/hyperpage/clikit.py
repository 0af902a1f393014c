"""Small helpers shared by the CLI groups: settings that fail with one clear line, groups loaded on first use."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from hyperpage.config import Settings

Command = Any  # a click command: typer vendors click privately (typer._click), so it is not named here


def settings_or_exit() -> Settings:
    """Read the settings; on a bad value print one line naming the variable and exit 2."""
    from hyperpage.config import ConfigError, get_settings  # pydantic and SQLAlchemy: only commands that need them

    try:
        return get_settings()
    except ConfigError as exc:
        typer.echo(f"hyperpage: configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error line and return the Exit to raise."""
    typer.echo(f"hyperpage: {message}", err=True)
    return typer.Exit(code=code)


class _LazyCommands(dict[str, Command]):
    """A group's commands by name, each imported ("module:attribute") the first time it is looked up.

    `hyperpage db migrate` must not pay for the web app, auth and Alembic it never uses: every feature's CLI
    module imports its feature, so a group imports a module only when one of its commands runs (or help lists
    them). The attribute is a Typer app (a group) or a command function; None stands for a command the group
    defines itself, and only places it in the order (the order of `hyperpage --help` and docs/cli.md).
    """

    def __init__(self, targets: dict[str, str | None], loaded: dict[str, Command]) -> None:
        super().__init__(loaded)
        self.targets = {name: target for name, target in targets.items() if target is not None}
        self.order = [*targets, *(name for name in loaded if name not in targets)]

    def _load(self, name: str) -> Command:
        if not super().__contains__(name):
            module, _, attribute = self.targets[name].partition(":")
            found = getattr(importlib.import_module(module), attribute)
            command: Command
            if isinstance(found, typer.Typer):
                command = typer.main.get_group(found)  # a group even with one command, as add_typer makes it
            else:  # a command function: the only command of an app, which typer turns into that command
                single = typer.Typer(add_completion=False)
                single.command(name)(found)
                command = typer.main.get_command(single)
            command.name = name
            super().__setitem__(name, command)
        return super().__getitem__(name)

    def __getitem__(self, name: str) -> Command:
        return self._load(name) if name in self.targets else super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default  # noqa: SIM401 (this is get: dict.get would skip the load)

    def __contains__(self, name: object) -> bool:
        return name in self.targets or super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name in self.order if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def keys(self) -> Any:
        return [*self]

    def items(self) -> Any:
        return [(name, self[name]) for name in self]

    def values(self) -> Any:
        return [self[name] for name in self]


def lazy_group(targets: dict[str, str | None]) -> type[TyperGroup]:
    """A Typer group class (`typer.Typer(cls=...)`) whose commands `targets` names are imported on first use."""

    class LazyGroup(TyperGroup):
        def __init__(self, *, commands: dict[str, Command] | None = None, **kwargs: Any) -> None:
            super().__init__(commands=_LazyCommands(targets, dict(commands or {})), **kwargs)

        def list_commands(self, ctx: Any) -> list[str]:
            return list(self.commands)  # names only: TyperGroup's would import every command to list them

    return LazyGroup
