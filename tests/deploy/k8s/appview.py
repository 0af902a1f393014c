"""What the rendered manifests tell the app: its environment, its secret files, its database URL."""

from __future__ import annotations

import base64
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import pytest

from hyperpage.config import FILE_SECRETS, Settings, load_settings
from tests.deploy.k8s.manifests import Rendered

# Every environment variable the app reads: Settings fields, plus `<NAME>_FILE` for file-backed secrets.
SETTINGS_ENV = frozenset(
    {name.upper() for name in Settings.model_fields} | {f"{name.upper()}_FILE" for name in FILE_SECRETS}
)
# Stands in for the value AWS Secrets Manager holds, with characters that need URL quoting, and as long as the
# longest minimum a secret setting has (HYPERPAGE_SESSION_SECRET: 32 characters).
SAMPLE_PASSWORD = "s3cret/with?chars&-and-at-least-32-characters"


def web_container(rendered: Rendered) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod template, web container)."""
    template = rendered.get("Deployment", "hyperpage-web")["spec"]["template"]
    [container] = [c for c in template["spec"]["containers"] if c["name"] == "web"]
    return template, container


def secret_keys(rendered: Rendered, name: str, password: str = SAMPLE_PASSWORD) -> dict[str, str]:
    """Keys of the Secret NAME with their values (PASSWORD stands in for what an ExternalSecret fetches)."""
    secret = rendered.find("Secret", name)
    if secret is not None:
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        return data | dict(secret.get("stringData") or {})
    for external in rendered.of_kind("ExternalSecret"):
        target = external["spec"].get("target", {})
        if target.get("name", external["metadata"]["name"]) != name:
            continue
        template = (target.get("template") or {}).get("data")
        if template is None:
            return {item["secretKey"]: password for item in external["spec"]["data"]}
        return {key: _render_template(value, password) for key, value in template.items()}
    for cluster in rendered.of_kind("Cluster"):
        if name == operator_app_secret(cluster):
            initdb = cluster["spec"]["bootstrap"]["initdb"]
            host = f"{cluster['metadata']['name']}-rw.{rendered.namespace}"
            url = f"postgresql://{initdb['owner']}:{quote(password, safe='')}@{host}:5432/{initdb['database']}"
            return {
                "username": initdb["owner"],
                "password": password,
                "dbname": initdb["database"],
                "host": host,
                "port": "5432",
                "uri": url,
            }
    raise AssertionError(f"{rendered.name}: nothing provides the Secret {name}")


def operator_app_secret(cluster: dict[str, Any]) -> str | None:
    """The application Secret CloudNativePG makes for a Cluster: `<cluster>-app`, unless the Cluster is
    bootstrapped from a Secret of its own, which then serves as the application Secret and none is made."""
    initdb = (cluster["spec"].get("bootstrap") or {}).get("initdb") or {}
    return None if initdb.get("secret") else f"{cluster['metadata']['name']}-app"


def _render_template(value: str, password: str) -> str:
    value = re.sub(r"\{\{\s*\.password\s*\|\s*urlquery\s*\}\}", quote(password, safe=""), value)
    value = re.sub(r"\{\{\s*\.password\s*\}\}", password, value)
    assert "{{" not in value, f"unhandled template expression in {value!r}"
    return value


def secret_files(rendered: Rendered, template: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """Every file the container sees from a Secret volume: path -> content."""
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" in volume:
            source = volume["secret"]
            keys = secret_keys(rendered, source["secretName"])
            # With `items`, only the listed keys appear, under their paths; a listed key the Secret lacks
            # keeps the pod from starting.
            items = source.get("items") or [{"key": key, "path": key} for key in keys]
            missing = {i["key"] for i in items} - set(keys)
            assert not missing, f"{rendered.name}: Secret {source['secretName']} has no key {sorted(missing)}"
            for item in items:
                files[str(PurePosixPath(mount["mountPath"]) / item["path"])] = keys[item["key"]]
    return files


def secret_source(
    template: dict[str, Any], container: dict[str, Any], path: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume mount, Secret volume source) the container's file PATH comes from."""
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    [mount] = [
        m for m in container.get("volumeMounts", []) if PurePosixPath(m["mountPath"]) == PurePosixPath(path).parent
    ]
    return mount, volumes[mount["name"]]["secret"]


def database_url(rendered: Rendered, variable: str = "DATABASE_URL_FILE") -> str:
    """The URL the web container reads from the file VARIABLE names."""
    template, container = web_container(rendered)
    path = rendered.app_env(container)[variable]
    return secret_files(rendered, template, container)[path]


def rendered_settings(
    rendered: Rendered,
    template: dict[str, Any],
    container: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings as the container would load them, its secret files written under tmp_path."""
    env = rendered.app_env(container)
    tmp_path.mkdir(parents=True, exist_ok=True)
    for index, (path, content) in enumerate(secret_files(rendered, template, container).items()):
        local = tmp_path / f"secret{index}"
        local.write_text(content)
        env = {k: (str(local) if v == path else v) for k, v in env.items()}
    for variable in SETTINGS_ENV:  # nothing from this machine's environment leaks in
        monkeypatch.delenv(variable, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()
