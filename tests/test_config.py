"""Settings: environment profiles, validation that names the variable, secrets from files."""

from __future__ import annotations

import importlib.util

import pytest

from hyperpage.config import ConfigError, Environment, load_settings

PG = "postgresql://hyperpage:s3cret@db.internal:5432/hyperpage"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HYPERPAGE_ENV",
        "DATABASE_URL",
        "DATABASE_URL_FILE",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "HYPERPAGE_RATE_LIMIT_PER_HOUR",
        "HYPERPAGE_DEBUG",
        "DB_POOL_SIZE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("env", "debug", "limit", "log_format"),
    [("development", True, 10_000, "console"), ("staging", False, 5_000, "json"), ("production", False, 1_000, "json")],
)
def test_profiles_set_the_seed_defaults(monkeypatch, env, debug, limit, log_format) -> None:
    monkeypatch.setenv("HYPERPAGE_ENV", env)
    monkeypatch.setenv("DATABASE_URL", PG)
    settings = load_settings()
    assert settings.hyperpage_env == Environment(env)
    assert settings.hyperpage_debug is debug
    assert settings.hyperpage_rate_limit_per_hour == limit
    assert settings.log_format == log_format


def test_explicit_values_win_over_the_profile(monkeypatch) -> None:
    monkeypatch.setenv("HYPERPAGE_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.setenv("HYPERPAGE_RATE_LIMIT_PER_HOUR", "42")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.hyperpage_rate_limit_per_hour == 42
    assert settings.log_level == "DEBUG"


def test_default_database_is_a_sqlite_file_under_data() -> None:
    settings = load_settings()
    assert settings.db_engine == "sqlite"
    assert settings.sqlalchemy_url.database == "./data/hyperpage.db"
    assert settings.sqlalchemy_url.drivername == "sqlite+aiosqlite"


def test_postgres_urls_use_asyncpg_and_translate_sslmode() -> None:
    settings = load_settings(database_url="postgres://u:p@h:5432/db?sslmode=require")
    assert settings.sqlalchemy_url.drivername == "postgresql+asyncpg"
    assert settings.sqlalchemy_url.query == {"ssl": "require"}


@pytest.mark.parametrize(
    ("overrides", "variable", "fragment"),
    [
        ({"hyperpage_env": "prod"}, "HYPERPAGE_ENV", "development"),
        ({"database_url": "nonsense"}, "DATABASE_URL", "not a database URL"),
        ({"database_url": "mysql://u:p@h/db"}, "DATABASE_URL", "unsupported database"),
        ({"database_url": "postgresql://u:changeme@h/db"}, "DATABASE_URL", "placeholder"),
        ({"database_url": "postgresql://u:your-password-here@h/db"}, "DATABASE_URL", "placeholder"),
        ({"db_pool_size": "0"}, "DB_POOL_SIZE", "greater than or equal to 1"),
        ({"hyperpage_port": "70000"}, "HYPERPAGE_PORT", "less than or equal to 65535"),
        ({"log_level": "LOUD"}, "LOG_LEVEL", "DEBUG"),
        (
            {"hyperpage_rate_limit_retention_days": "0"},
            "HYPERPAGE_RATE_LIMIT_RETENTION_DAYS",
            "greater than or equal to 1",
        ),
        ({"hyperpage_rate_limit_retention_days": "a month"}, "HYPERPAGE_RATE_LIMIT_RETENTION_DAYS", "valid integer"),
        ({"hyperpage_listen_database_url": "sqlite:///./x.db"}, "HYPERPAGE_LISTEN_DATABASE_URL", "postgresql://"),
        ({"hyperpage_api_cache_mb": "-1"}, "HYPERPAGE_API_CACHE_MB", "greater than or equal to 0"),
        ({"hyperpage_http_protocol": "httptool"}, "HYPERPAGE_HTTP_PROTOCOL", "'auto', 'h11' or 'httptools'"),
    ],
)
def test_bad_values_name_the_variable(overrides, variable, fragment) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(**overrides)
    message = str(exc.value)
    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert "\n" not in message


def test_production_requires_an_explicit_postgresql_url(monkeypatch) -> None:
    monkeypatch.setenv("HYPERPAGE_ENV", "production")
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: required in production"):
        load_settings()
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./x.db")
    with pytest.raises(ConfigError, match="DATABASE_URL: production needs PostgreSQL"):
        load_settings()


def test_database_url_can_come_from_a_mounted_file(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "database-url"
    secret.write_text(PG + "\n")
    monkeypatch.setenv("DATABASE_URL_FILE", str(secret))
    assert load_settings().database_url.get_secret_value() == PG
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DATABASE_URL_FILE: cannot read"):
        load_settings()


def test_secrets_are_not_shown_by_repr() -> None:
    settings = load_settings(database_url=PG)
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


def test_the_http_protocol_falls_back_to_h11_only_when_httptools_is_absent(monkeypatch) -> None:
    from hyperpage import server

    assert server.http_protocol(load_settings()) == "httptools"  # installed with uvicorn[standard]
    assert server.http_protocol(load_settings(hyperpage_http_protocol="h11")) == "h11"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "httptools" else real_find_spec(name))
    assert server.http_protocol(load_settings()) == "h11"
    with pytest.raises(ConfigError, match=r"^HYPERPAGE_HTTP_PROTOCOL: .*httptools is not installed"):
        load_settings(hyperpage_http_protocol="httptools")
