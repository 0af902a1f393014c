"""`hyperpage serve` refuses to start in staging/production without a sign-in mode, or with `off` unless
HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true (then it says so at ERROR level), and names the variable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hyperpage.config import ConfigError, load_settings
from hyperpage.main import create_app
from tests.serverproc import HYPERPAGE

PG_URL = "postgresql://hyperpage:secret-pw@127.0.0.1:1/hyperpage"  # never reached: the check comes first


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERPAGE_", "DATABASE_URL"))}
    return subprocess.run(
        [HYPERPAGE, "serve"],
        env={**clean, "DATABASE_URL": PG_URL, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HYPERPAGE_ENV": "production"}, "HYPERPAGE_AUTH: required in production"),
        ({"HYPERPAGE_ENV": "staging", "HYPERPAGE_AUTH": "off"}, "HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true"),
    ],
)
def test_serve_refuses_to_start_and_names_the_variable(tmp_path: Path, env: dict[str, str], named: str) -> None:
    run = _serve(tmp_path, **env)
    assert run.returncode == 2, run.stderr
    assert named in run.stderr and "configuration error" in run.stderr


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"hyperpage_env": "staging"}, "HYPERPAGE_AUTH: required in staging"),
        ({"hyperpage_auth": "off"}, "HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true"),
        ({"hyperpage_auth": "oidc"}, "HYPERPAGE_PUBLIC_URL: required"),
        (
            {"hyperpage_auth": "oidc", "hyperpage_public_url": "https://portal.example.com"},
            "HYPERPAGE_SESSION_SECRET: required",
        ),
        (
            {
                "hyperpage_auth": "oidc",
                "hyperpage_public_url": "https://portal.example.com",
                "hyperpage_session_secret": "k" * 32,
            },
            "HYPERPAGE_OIDC_ISSUER: required",
        ),
        ({"hyperpage_auth": "proxy"}, "HYPERPAGE_TRUSTED_PROXIES: required"),
        ({"hyperpage_auth": "token", "hyperpage_metrics_port": 3000}, "HYPERPAGE_METRICS_PORT: must differ"),
    ],
)
def test_incomplete_sign_in_settings_are_named(values: dict, named: str) -> None:
    settings = load_settings(**{"hyperpage_env": "production", "database_url": PG_URL, **values})
    assert named in (settings.web_auth_problem() or "")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"hyperpage_session_secret": "short"}, "HYPERPAGE_SESSION_SECRET: must be at least 32 characters"),
        ({"hyperpage_public_url": "http://portal.example.com"}, "HYPERPAGE_PUBLIC_URL: must use https://"),
        ({"hyperpage_oidc_issuer": "https://user:pw@idp.example.com"}, "HYPERPAGE_OIDC_ISSUER: must not carry"),
        ({"hyperpage_auth_proxy_user_header": "X-User: admin"}, "HYPERPAGE_AUTH_PROXY_USER_HEADER: expected"),
    ],
)
def test_malformed_sign_in_values_stop_every_command(values: dict, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(hyperpage_env="production", database_url=PG_URL, **values)
    assert named in str(refused.value)


def test_other_commands_do_not_need_a_sign_in_mode() -> None:
    settings = load_settings(hyperpage_env="production", database_url=PG_URL)  # worker, db upgrade, backups
    assert settings.hyperpage_auth is None and settings.web_auth_problem() is not None


def test_anonymous_production_is_allowed_only_explicitly_and_loudly(capsys, tmp_path: Path) -> None:
    settings = load_settings(
        hyperpage_env="production",
        database_url=PG_URL,
        hyperpage_auth="off",
        hyperpage_auth_allow_anonymous=True,
        log_format="json",
    )
    create_app(settings)
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "authentication_disabled" in x)
    assert '"level": "error"' in line or '"level":"error"' in line.replace(" ", "")
    assert "HYPERPAGE_AUTH=off in production" in line
