"""The `hyperpage` command: version, start-up configuration errors, and the db schema commands."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hyperpage import __version__
from hyperpage.cli import app
from hyperpage.config import get_settings
from hyperpage.db import schema
from tests.serverproc import HYPERPAGE

runner = CliRunner()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERPAGE_", "DATABASE_URL", "DB_"))}
    return subprocess.run([HYPERPAGE, *args], env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60)


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"hyperpage {__version__}"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HYPERPAGE_ENV": "production", "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"HYPERPAGE_ENV": "production"}, "DATABASE_URL"),
        ({"HYPERPAGE_PORT": "port"}, "HYPERPAGE_PORT"),
        ({"DATABASE_URL": "postgresql://app:changeme@db/hyperpage"}, "DATABASE_URL"),
    ],
)
def test_bad_configuration_stops_serve_at_once_with_one_line(env, variable) -> None:
    out = run_cli("serve", env=env)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"hyperpage: configuration error: {variable}: ")
    assert "changeme" not in out.stderr


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, empty_db_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    get_settings.cache_clear()
    yield empty_db_url
    get_settings.cache_clear()


def test_db_commands_upgrade_check_and_downgrade(cli_env: str) -> None:
    behind = runner.invoke(app, ["db", "check"])
    assert behind.exit_code == 1
    assert "run `hyperpage db upgrade`" in behind.output

    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert runner.invoke(app, ["db", "check"]).exit_code == 0
    current = runner.invoke(app, ["db", "current"])
    assert f"current: {schema.head_revision()}" in current.output

    down = runner.invoke(app, ["db", "downgrade"])
    assert down.exit_code == 0, down.output
    assert schema.current_revision(cli_env) != schema.head_revision()
    assert runner.invoke(app, ["db", "check"]).exit_code == 1


def test_db_upgrade_names_an_unreachable_database(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:topsecret@127.0.0.1:1/hyperpage")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "database unreachable" in result.output
    assert "topsecret" not in result.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["db", "check", "--help"],
        ["db", "current", "--help"],
        ["db", "downgrade", "--help"],
        ["sync", "prune-samples", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_db_migrate_starts_without_the_web_app_auth_alembic_or_sqlalchemy(tmp_path) -> None:
    """Start-up is part of every migration's time (issue 16): a generic run imports only what it uses."""
    source = tmp_path / "small.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'a')")
    conn.close()
    # pydantic itself is typer's (it coerces option values); pydantic_settings is our configuration's
    heavy = ("fastapi", "starlette", "sqlalchemy", "alembic", "pydantic_settings", "structlog", "hyperpage.auth")
    script = (
        "import sys\nfrom hyperpage.cli import app\n"
        f"try:\n    app(['db', 'migrate', '--dry-run', '--from', 'sqlite:///{source}', '--to', 'postgresql://h/db'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print('LOADED', sorted(m for m in sys.modules if m.startswith({heavy!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "generic" in out.stdout  # the plan was printed: the command really ran
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"
