"""Extra connections from HYPERPAGE_CONNECTIONS_FILE (YAML). Tokens come from env variables or files only."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, cast

import yaml
from pydantic import SecretStr

from hyperpage.config import ConfigError, Settings, is_placeholder
from hyperpage.logging import register_secret
from hyperpage.tools.base import ConnectionSpec, split_list

VARIABLE = "HYPERPAGE_CONNECTIONS_FILE"


def file_entries(settings: Settings, tool: str) -> list[dict[str, Any]]:
    """The file's entries for one tool, each with a `_where` label for error messages."""
    path = settings.hyperpage_connections_file
    if path is None:
        return []
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{VARIABLE}: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{VARIABLE}: {path} is not valid YAML ({type(exc).__name__})") from None
    entries = data.get("connections") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{VARIABLE}: {path} needs a top-level `connections:` list")
    found = []
    for index, entry in enumerate(entries):
        where = f"{VARIABLE}: connections[{index}]"
        if not isinstance(entry, dict) or not entry.get("tool") or not entry.get("name"):
            raise ConfigError(f"{where}: each entry needs `tool` and `name`")
        if entry["tool"] not in ("github", "gitlab", "jira"):
            raise ConfigError(f"{where}: unknown tool {entry['tool']!r} (github, gitlab, jira)")
        if "token" in entry:
            raise ConfigError(f"{where}: put the token in `token_env` or `token_file`, never in the file")
        if entry["tool"] == tool and entry.get("enabled", True):
            found.append({**entry, "_where": f"{where} ({tool}/{entry['name']})"})
    return found


def entry_token(entry: dict[str, Any]) -> SecretStr:
    """Read the token named by `token_env` or `token_file`; fail naming the entry, never the value."""
    where = entry["_where"]
    if entry.get("token_env"):
        value = os.environ.get(str(entry["token_env"]), "").strip()
        source = f"variable {entry['token_env']}"
    elif entry.get("token_file"):
        try:
            value = Path(str(entry["token_file"])).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read token_file: {exc.strerror}") from None
        source = f"file {entry['token_file']}"
    else:
        raise ConfigError(f"{where}: needs `token_env` or `token_file`")
    if not value:
        raise ConfigError(f"{where}: {source} is empty or unset")
    if is_placeholder(value):
        raise ConfigError(f"{where}: {source} holds a placeholder; set the real token")
    register_secret(value)
    return SecretStr(value)


class InsightLists(TypedDict, total=False):
    """The ConnectionSpec fields insight_lists fills."""

    production_environments: tuple[str, ...]
    incident_labels: tuple[str, ...]
    incident_issue_types: tuple[str, ...]
    deployment_workflows: tuple[str, ...]


def insight_lists(settings: Settings, tool: str, options: dict[str, Any], *keys: str) -> InsightLists:
    """The insights' per-connection lists (ConnectionSpec fields): each from the connections file entry, else
    from the `<TOOL>_<KEY>` variable. Environment names compare case-insensitively, so they are kept lower case."""
    lists = {key: split_list(options.get(key, getattr(settings, f"{tool}_{key}"))) for key in keys}
    if "production_environments" in lists:
        lists["production_environments"] = tuple(e.lower() for e in lists["production_environments"])
    unknown = set(lists) - set(InsightLists.__annotations__)
    if unknown:
        raise ValueError(f"not an insights list: {sorted(unknown)}")
    return cast(InsightLists, lists)


def forge_specs(
    settings: Settings,
    tool: str,
    *,
    url_key: str,
    default_url: str,
    scopes_key: str,
    spec: Callable[[str, str, SecretStr, tuple[str, ...], dict[str, Any], Settings], ConnectionSpec],
) -> list[ConnectionSpec]:
    """GitHub's and GitLab's connections: the one of the environment variables (`ENABLE_<TOOL>`, `<TOOL>_TOKEN`,
    `<TOOL>_<URL_KEY>`, `<TOOL>_<SCOPES_KEY>`), then the file's, each `spec(name, url, token, scopes, entry,
    settings)` (the file entry's other keys are the connection's own options; the environment's has none)."""
    specs = []
    token: SecretStr | None = getattr(settings, f"{tool}_token")
    if getattr(settings, f"enable_{tool}") and token is not None:
        url, scopes = str(getattr(settings, f"{tool}_{url_key}")), str(getattr(settings, f"{tool}_{scopes_key}"))
        specs.append(spec("default", url, token, split_list(scopes), {}, settings))
    for entry in file_entries(settings, tool):
        token = entry_token(entry)
        url = str(entry.get(url_key) or default_url)
        specs.append(spec(str(entry["name"]), url, token, split_list(entry.get(scopes_key)), entry, settings))
    return specs
