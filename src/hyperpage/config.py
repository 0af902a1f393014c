"""The one settings class, read once from the environment (and `*_FILE` secret files)."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


# Defaults per HYPERPAGE_ENV, from the seed's multi-environment table. Any of them can still be set explicitly.
PROFILES: dict[Environment, dict[str, Any]] = {
    Environment.DEVELOPMENT: {
        "hyperpage_debug": True,
        "hyperpage_host": "127.0.0.1",
        "log_level": "INFO",
        "log_format": "console",
        "hyperpage_rate_limit_per_hour": 10_000,
        "hyperpage_secure_cookies": False,
        "hyperpage_auth": "off",
    },
    Environment.STAGING: {
        "hyperpage_debug": False,
        "hyperpage_host": "0.0.0.0",
        "log_level": "INFO",
        "log_format": "json",
        "hyperpage_rate_limit_per_hour": 5_000,
        "hyperpage_secure_cookies": True,
    },
    Environment.PRODUCTION: {
        "hyperpage_debug": False,
        "hyperpage_host": "0.0.0.0",
        "log_level": "WARNING",
        "log_format": "json",
        "hyperpage_rate_limit_per_hour": 1_000,
        "hyperpage_secure_cookies": True,
    },
}

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_SQLITE_URL = "sqlite:///./data/hyperpage.db"

# Secrets that may be given as a path in `<NAME>_FILE` (Kubernetes secret volumes) instead of a value.
FILE_SECRETS = (
    "database_url",
    "github_token",
    "gitlab_token",
    "jira_api_token",
    "hyperpage_admin_token",
    "redis_url",
    "hyperpage_listen_database_url",
    "hyperpage_backup_verify_database_url",
    "hyperpage_session_secret",
    "hyperpage_oidc_client_secret",
)

_PLACEHOLDER = re.compile(
    r"(change[-_]?me|change[-_]?this|^your[-_]|[-_]here$|placeholder|^xxx+$|^<.*>$|^todo$)", re.IGNORECASE
)


def is_placeholder(value: str) -> bool:
    """Tell whether a secret looks like a value copied from an example file."""
    return bool(value) and bool(_PLACEHOLDER.search(value.strip()))


class AuthMode(StrEnum):
    OFF = "off"
    TOKEN = "token"
    OIDC = "oidc"
    PROXY = "proxy"


class Settings(BaseSettings):
    """Every setting of Hyperpage; the environment variable is the upper-cased field name."""

    model_config = SettingsConfigDict(
        env_file=None, case_sensitive=False, extra="ignore", validate_default=True, frozen=True
    )

    hyperpage_env: Environment = Environment.DEVELOPMENT
    hyperpage_debug: bool = False
    hyperpage_host: str = "127.0.0.1"
    hyperpage_port: int = Field(3000, ge=1, le=65535)
    hyperpage_workers: int = Field(1, ge=1, le=64)
    hyperpage_shutdown_grace_seconds: float = Field(25.0, gt=0, le=600)
    hyperpage_drain_seconds: float = Field(5.0, ge=0, le=120)
    hyperpage_http_protocol: Literal["auto", "h11", "httptools"] = "auto"
    hyperpage_http_max_header_bytes: int = Field(32_768, ge=4_096, le=1_048_576)
    hyperpage_http_header_timeout_seconds: float = Field(10.0, gt=0, le=300)
    hyperpage_http_keepalive_seconds: int = Field(5, ge=1, le=300)
    hyperpage_http_max_connections: int = Field(1_000, ge=2, le=100_000)
    hyperpage_rate_limit_per_hour: int = Field(10_000, ge=1)
    hyperpage_secure_cookies: bool = False
    hyperpage_admin_token: SecretStr | None = None
    hyperpage_trusted_proxies: str = ""
    redis_url: SecretStr | None = None
    hyperpage_api_cache_mb: float = Field(32.0, ge=0, le=4096)
    hyperpage_api_cache_max_age_seconds: float = Field(60.0, gt=0, le=86_400)
    hyperpage_metrics_port: int = Field(3002, ge=0, le=65535)

    # Sign-in (docs/auth.md). No default outside development: staging/production must choose a mode.
    hyperpage_auth: AuthMode | None = None
    hyperpage_auth_allow_anonymous: bool = False
    hyperpage_public_url: str | None = None
    hyperpage_session_secret: SecretStr | None = None
    hyperpage_session_max_age_seconds: int = Field(28_800, ge=60, le=30 * 86_400)
    hyperpage_oidc_issuer: str | None = None
    hyperpage_oidc_client_id: str | None = None
    hyperpage_oidc_client_secret: SecretStr | None = None
    hyperpage_oidc_scopes: str = "openid email profile"
    hyperpage_oidc_groups_claim: str = Field("groups", min_length=1)
    hyperpage_auth_allowed_domains: str = ""
    hyperpage_auth_allowed_groups: str = ""
    hyperpage_auth_admin_emails: str = ""
    hyperpage_auth_admin_groups: str = ""
    hyperpage_auth_proxy_user_header: str = "X-Auth-Request-Email"
    hyperpage_auth_proxy_groups_header: str = "X-Auth-Request-Groups"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    database_url: SecretStr = SecretStr(DEFAULT_SQLITE_URL)
    db_pool_size: int = Field(5, ge=1, le=200)
    db_max_overflow: int = Field(5, ge=0, le=200)
    db_pool_timeout: float = Field(5.0, gt=0, le=300)
    db_statement_timeout: float = Field(10.0, ge=0, le=3600)
    # A session-mode connection for LISTEN (the response cache's change signal) when DATABASE_URL goes
    # through a transaction-mode pooler such as PgBouncer, which cannot carry LISTEN.
    hyperpage_listen_database_url: SecretStr | None = None

    # Upstream connections (names compatible with the original Hyperpage where they exist).
    enable_github: bool = False
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    github_repos: str = ""
    github_production_environments: str = "production"
    github_incident_labels: str = "incident"
    github_deployment_workflows: str = ""
    enable_gitlab: bool = False
    gitlab_web_url: str = "https://gitlab.com"
    gitlab_token: SecretStr | None = None
    gitlab_projects: str = ""
    gitlab_production_environments: str = "production"
    gitlab_incident_labels: str = "incident"
    enable_jira: bool = False
    jira_web_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_deployment: Literal["cloud", "datacenter"] | None = None
    jira_jql: str = ""
    jira_incident_issue_types: str = "Incident"
    jira_incident_labels: str = ""
    hyperpage_connections_file: Path | None = None

    # Background sync: schedule, budgets, coordination.
    hyperpage_scheduler: bool | None = None
    hyperpage_worker_port: int = Field(3001, ge=1, le=65535)
    sync_pull_requests_interval_seconds: int = Field(120, ge=1)
    sync_pipelines_interval_seconds: int = Field(120, ge=1)
    sync_issues_interval_seconds: int = Field(300, ge=1)
    sync_rate_limits_interval_seconds: int = Field(60, ge=1)
    sync_repositories_interval_seconds: int = Field(3600, ge=1)
    sync_pull_request_details_interval_seconds: int = Field(300, ge=1)
    sync_deployments_interval_seconds: int = Field(300, ge=1)
    sync_incidents_interval_seconds: int = Field(300, ge=1)
    sync_deployments_window_days: int = Field(180, ge=1, le=3650)
    sync_github_graphql_page_size: int = Field(50, ge=1, le=100)
    sync_full_resync_seconds: int = Field(86_400, ge=60)
    sync_pipelines_window_days: int = Field(30, ge=1, le=3650)
    sync_github_merge_state: bool = True
    sync_insights: bool = True
    sync_quota_reserve_percent: float = Field(5.0, ge=0, lt=100)
    sync_concurrency_per_token: int = Field(4, ge=1, le=100)
    sync_concurrent_jobs: int = Field(4, ge=1, le=100)
    sync_lease_seconds: float = Field(300.0, gt=0, le=86_400)
    sync_tick_seconds: float = Field(5.0, gt=0, le=3600)
    sync_http_timeout_seconds: float = Field(30.0, gt=0, le=600)
    sync_max_retries: int = Field(3, ge=0, le=10)
    sync_backoff_base_seconds: float = Field(1.0, gt=0, le=60)
    sync_backoff_max_seconds: float = Field(30.0, gt=0, le=3600)
    sync_max_wait_seconds: float = Field(60.0, ge=0, le=3600)
    hyperpage_rate_limit_retention_days: int = Field(30, ge=1, le=3650)

    # Insights (docs/insights.md)
    hyperpage_teams_file: Path | None = None
    hyperpage_insights_incident_window_hours: float = Field(24.0, gt=0, le=24 * 90)
    hyperpage_insights_memo_entries: int = Field(32, ge=0, le=10_000)

    hyperpage_backup_destination: str = "file://./data/backups"
    hyperpage_backup_s3_endpoint_url: str | None = None
    hyperpage_backup_s3_region: str | None = None
    hyperpage_backup_keep_days: int | None = Field(7, ge=0, le=3650)
    hyperpage_backup_keep_copies: int | None = Field(None, ge=1, le=10_000)
    hyperpage_backup_compression_level: int = Field(6, ge=0, le=9)
    hyperpage_backup_work_dir: Path | None = None
    hyperpage_backup_verify_database_url: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _apply_profile_and_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k.lower(): v for k, v in data.items()}
        for name in FILE_SECRETS:
            path = os.environ.get(f"{name.upper()}_FILE")
            if path and name not in data:
                data[name] = _read_secret_file(f"{name.upper()}_FILE", path)
        try:
            env = Environment(str(data.get("hyperpage_env", Environment.DEVELOPMENT)).lower())
        except ValueError:
            return data  # the field validator reports the bad value, naming HYPERPAGE_ENV
        data["hyperpage_env"] = env
        for key, value in PROFILES[env].items():
            data.setdefault(key, value)
        if env is Environment.PRODUCTION and "database_url" not in data:
            raise ValueError("DATABASE_URL: required in production (a PostgreSQL URL; SQLite is single-writer)")
        return data

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        url = _parse_db_url(value.get_secret_value())
        if url.password and is_placeholder(url.password):
            raise ValueError("the password is a placeholder; set the real one")
        return value

    @field_validator("hyperpage_admin_token")
    @classmethod
    def _check_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        raw = value.get_secret_value()
        if is_placeholder(raw):
            raise ValueError("the admin token is a placeholder; set a real random value")
        if len(raw) < 16:
            raise ValueError("the admin token must be at least 16 characters (use a random value)")
        return value

    @field_validator("hyperpage_http_protocol")
    @classmethod
    def _check_http_protocol(cls, value: str) -> str:
        if value == "httptools" and importlib.util.find_spec("httptools") is None:
            raise ValueError("httptools is not installed (pip install httptools); use auto or h11")
        return value

    @field_validator("hyperpage_trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for part in _split_csv(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0, rediss://... or unix:///path")
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(part, strict=False) for part in _split_csv(self.hyperpage_trusted_proxies))

    @field_validator("hyperpage_backup_destination")
    @classmethod
    def _check_backup_destination(cls, value: str) -> str:
        if not (value.startswith("file://") and len(value) > len("file://")) and not re.match(r"^s3://[^/]+", value):
            raise ValueError("expected file:///directory or s3://bucket/prefix")
        return value

    @field_validator("hyperpage_backup_s3_endpoint_url")
    @classmethod
    def _check_s3_endpoint(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://[^/]+", value):
            raise ValueError("expected an http(s):// URL of an S3-compatible endpoint")
        return value or None

    @field_validator("hyperpage_backup_verify_database_url")
    @classmethod
    def _check_verify_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            _parse_db_url(value.get_secret_value())
            return value
        return None

    @field_validator("hyperpage_listen_database_url")
    @classmethod
    def _check_listen_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if async_url(value.get_secret_value()).get_backend_name() != "postgresql":
            raise ValueError("expected a postgresql:// URL (LISTEN/NOTIFY is PostgreSQL's)")
        return value

    @field_validator("hyperpage_session_secret", "hyperpage_oidc_client_secret")
    @classmethod
    def _check_auth_secret(cls, value: SecretStr | None, info: Any) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if is_placeholder(value.get_secret_value()):
            raise ValueError("looks like a placeholder; set the real secret")
        if info.field_name == "hyperpage_session_secret" and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -base64 48`)")
        return value

    @field_validator("hyperpage_public_url", "hyperpage_oidc_issuer")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("expected an absolute http(s):// URL without query or fragment")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials")
        # OpenID Connect Discovery 1.0 section 2 requires https; plain http only for a provider on this machine
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("must use https:// (plain http only for localhost)")
        return value.rstrip("/")

    @field_validator("hyperpage_auth_proxy_user_header", "hyperpage_auth_proxy_groups_header")
    @classmethod
    def _check_header_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise ValueError("expected an HTTP header name (letters, digits, dashes)")
        return value

    def web_auth_problem(self) -> str | None:
        """Why `hyperpage serve` must not start with these sign-in settings (None when they are complete).

        Checked by the web process only: the worker, migrations and backups serve no data and need no mode.
        """
        mode = self.hyperpage_auth
        env = self.hyperpage_env.value
        if mode is None:
            return f"HYPERPAGE_AUTH: required in {env} (token, oidc or proxy; see docs/auth.md)"
        if (
            mode is AuthMode.OFF
            and self.hyperpage_env is not Environment.DEVELOPMENT
            and not self.hyperpage_auth_allow_anonymous
        ):
            return (
                f"HYPERPAGE_AUTH: `off` is refused in {env}; choose token, oidc or proxy, or set "
                "HYPERPAGE_AUTH_ALLOW_ANONYMOUS=true to publish the data to anyone who reaches the port"
            )
        if mode is AuthMode.OIDC:
            for name in (
                "hyperpage_public_url",
                "hyperpage_session_secret",
                "hyperpage_oidc_issuer",
                "hyperpage_oidc_client_id",
            ):
                if getattr(self, name) is None:
                    return f"{name.upper()}: required when HYPERPAGE_AUTH=oidc"
            if "openid" not in self.hyperpage_oidc_scopes.split():
                return "HYPERPAGE_OIDC_SCOPES: must include `openid`"
            if self.hyperpage_secure_cookies and not str(self.hyperpage_public_url).startswith("https://"):
                return (
                    "HYPERPAGE_PUBLIC_URL: must be https:// when HYPERPAGE_SECURE_COOKIES=true "
                    "(a Secure cookie never comes back over plain http)"
                )
        if mode is AuthMode.PROXY and not self.trusted_proxy_networks:
            return (
                "HYPERPAGE_TRUSTED_PROXIES: required when HYPERPAGE_AUTH=proxy (the addresses of the proxy "
                "that sets the user header)"
            )
        if self.hyperpage_metrics_port and self.hyperpage_metrics_port == self.hyperpage_port:
            return "HYPERPAGE_METRICS_PORT: must differ from HYPERPAGE_PORT"
        return None

    @property
    def auth_mode(self) -> AuthMode:
        """The sign-in mode; only meaningful once web_auth_problem() said the settings are complete."""
        return self.hyperpage_auth or AuthMode.OFF

    @property
    def public_origin(self) -> str | None:
        if not self.hyperpage_public_url:
            return None
        parts = urlsplit(self.hyperpage_public_url)
        return f"{parts.scheme}://{parts.netloc}"

    def csv(self, name: str) -> tuple[str, ...]:
        """A comma-list setting, lower-cased (emails, domains and group names compare case-insensitively)."""
        return tuple(part.lower() for part in _split_csv(getattr(self, name)))

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.hyperpage_env is Environment.PRODUCTION and self.db_engine != "postgresql":
            raise ValueError("DATABASE_URL: production needs PostgreSQL (SQLite is single-writer)")
        return self

    @model_validator(mode="after")
    def _enabled_tools_have_credentials(self) -> Settings:
        required = {
            "enable_github": ("github_token",),
            "enable_gitlab": ("gitlab_token",),
            "enable_jira": ("jira_api_token", "jira_web_url"),
        }
        for flag, names in required.items():
            if not getattr(self, flag):
                continue
            for name in names:
                value = getattr(self, name)
                raw = value.get_secret_value() if isinstance(value, SecretStr) else value
                if not raw:
                    raise ValueError(f"{name.upper()}: required when {flag.upper()}=true")
                if isinstance(value, SecretStr) and is_placeholder(raw):
                    raise ValueError(f"{name.upper()}: looks like a placeholder; set the real token")
        if self.jira_deployment == "cloud" and self.enable_jira and not self.jira_email:
            raise ValueError("JIRA_EMAIL: required for Jira Cloud (email + API token)")
        return self

    @property
    def scheduler_enabled(self) -> bool:
        """Run the sync in-process under `serve`: on by default for SQLite only (single writer)."""
        if self.hyperpage_scheduler is None:
            return self.db_engine == "sqlite"
        return self.hyperpage_scheduler

    def secret_values(self) -> list[str]:
        """Every secret value, so logging can mask them."""
        fields = (
            self.database_url,
            self.github_token,
            self.gitlab_token,
            self.jira_api_token,
            self.hyperpage_admin_token,
            self.redis_url,
            self.hyperpage_listen_database_url,
            self.hyperpage_backup_verify_database_url,
            self.hyperpage_session_secret,
            self.hyperpage_oidc_client_secret,
        )
        return [f.get_secret_value() for f in fields if f is not None]

    def configured_urls(self) -> list[str]:
        """Every non-secret URL setting: one may still carry `user:password@` (masked in logs, stripped in output)."""
        urls = (
            self.github_api_url,
            self.gitlab_web_url,
            self.jira_web_url,
            self.hyperpage_backup_s3_endpoint_url,
            self.hyperpage_backup_destination,
        )
        return [url for url in urls if url]

    @property
    def sqlalchemy_url(self) -> URL:
        """The async SQLAlchemy URL (aiosqlite or asyncpg driver)."""
        return async_url(self.database_url.get_secret_value())

    @property
    def db_engine(self) -> str:
        return "sqlite" if self.sqlalchemy_url.get_backend_name() == "sqlite" else "postgresql"


def _split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _read_secret_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def _parse_db_url(raw: str) -> URL:
    if raw.startswith("postgres://"):  # Heroku-style alias
        raw = "postgresql://" + raw.removeprefix("postgres://")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("not a database URL (expected sqlite:///path.db or postgresql://...)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {url.get_backend_name()!r} (use sqlite or postgresql)")
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ValueError("a PostgreSQL URL needs a database name")
    return url


def async_url(raw: str) -> URL:
    """Normalise any sqlite/postgres URL to the async driver the app uses."""
    url = _parse_db_url(raw)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    query = dict(url.query)
    if "sslmode" in query:  # asyncpg spells libpq's sslmode as ssl
        query["ssl"] = query.pop("sslmode")
    return url.set(drivername="postgresql+asyncpg", query=query)


def sync_url(raw: str | URL) -> URL:
    """The same database with a synchronous driver (psycopg 3 or pysqlite), for tools such as pg COPY."""
    url = raw if isinstance(raw, URL) else _parse_db_url(str(raw))
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql+psycopg", query=query)


class ConfigError(Exception):
    """A setting is invalid; the message is one line naming the variable."""


def describe_validation_error(exc: ValidationError) -> str:
    """Turn a pydantic error into one line that names the environment variable."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if loc:
            parts.append(f"{loc[0].upper()}: {msg}")
        else:
            parts.append(msg)
    return "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings; raise ConfigError with a one-line message naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
