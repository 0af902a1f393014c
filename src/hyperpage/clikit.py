"""Small helpers shared by the CLI groups: settings that fail with one clear line."""

from __future__ import annotations

import typer

from hyperpage.config import ConfigError, Settings, get_settings


def settings_or_exit() -> Settings:
    """Read the settings; on a bad value print one line naming the variable and exit 2."""
    try:
        return get_settings()
    except ConfigError as exc:
        typer.echo(f"hyperpage: configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error line and return the Exit to raise."""
    typer.echo(f"hyperpage: {message}", err=True)
    return typer.Exit(code=code)
