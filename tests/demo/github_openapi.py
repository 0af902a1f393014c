"""GitHub's published OpenAPI description (@octokit/openapi 23.0.2, ../shared/upstream-specs) as a validator.

`check(response)` finds the operation for the request's path, validates the status (documented for the
operation), the JSON body against that status's schema (OpenAPI 3.0 semantics: `nullable`) and every
documented response header the fake sends against its schema.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
# GitHub's Link URLs use /repositories/{id}/... for the same operations (not in the description).
ALIASES = ((re.compile(r"^/repositories/\d+(?=/|$)"), "/repos/{owner}/{repo}"),)


def spec_path() -> Path:
    """shared/upstream-specs beside the repository (or above a worktree); fails loudly if absent."""
    override = os.environ.get("HYPERPAGE_GITHUB_OPENAPI")
    candidates = (
        [Path(override)]
        if override
        else [p / "shared" / "upstream-specs" / "github-openapi.json.gz" for p in REPO_ROOT.parents]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise AssertionError(
        f"GitHub's OpenAPI description not found (looked in {', '.join(map(str, candidates[:3]))}) "
        "or HYPERPAGE_GITHUB_OPENAPI"
    )


@cache
def spec() -> dict[str, Any]:
    return json.loads(gzip.decompress(spec_path().read_bytes()))


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    # literal paths first, so /user/repos never matches /users/{username}-like templates by accident
    items = sorted(spec()["paths"], key=lambda t: (t.count("{"), -len(t)))
    return [(_template_pattern(t), t) for t in items]


def operation_for(path: str, method: str = "get") -> tuple[str, dict[str, Any]]:
    for pattern, replacement in ALIASES:
        if pattern.match(path):
            path = pattern.sub(replacement.replace("{owner}", "o").replace("{repo}", "r"), path)
    for pattern, template in _templates():
        if pattern.match(path) and method in spec()["paths"][template]:
            return template, spec()["paths"][template][method]
    raise AssertionError(f"{method.upper()} {path}: no operation in GitHub's OpenAPI description")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: how `x-github-breaking-changes` describe a newer API version's schema."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


@cache
def components(version: str | None) -> dict[str, Any]:
    """The component schemas as served under `X-GitHub-Api-Version: version` (None: the default version)."""
    base = spec()["components"]
    if version is None:
        return base
    schemas = {}
    for name, schema in base["schemas"].items():
        for change in schema.get("x-github-breaking-changes", []):
            if change.get("version", "") <= version and isinstance(change.get("patch"), dict):
                schema = _merge_patch(schema, change["patch"])
        schemas[name] = schema
    return {**base, "schemas": schemas}


def _validator(schema: dict[str, Any], version: str | None = None) -> OAS30Validator:
    return OAS30Validator({**schema, "components": components(version)})


@dataclass
class Tally:
    """What was checked: responses per (operation, status), and the failures found."""

    checked: dict[tuple[str, int], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    version: str | None = None  # the X-GitHub-Api-Version asked for; None: the default (2022-11-28)

    def distinct_errors(self) -> list[str]:
        """Errors with numbers and names folded, each once: one fake bug is usually hundreds of errors."""
        folded = (
            re.sub(r"/(repos|orgs)/[^/ ]+(/[^/ ]+)?", r"/\1/{name}", re.sub(r"/\d+", "/N", e)) for e in self.errors
        )
        return sorted(set(folded))

    @property
    def total(self) -> int:
        return sum(self.checked.values())

    def check(self, response: httpx.Response, prefix: str = "") -> None:
        path = response.request.url.path.removeprefix(prefix)
        template, op = operation_for(path, response.request.method.lower())
        where = f"{response.request.method} {path} -> {response.status_code}"
        documented = op["responses"].get(str(response.status_code)) or op["responses"].get("default")
        if documented is None:
            self.errors.append(f"{where}: status not documented for {template} ({sorted(op['responses'])})")
            return
        documented = _resolve(documented)
        content = (documented.get("content") or {}).get("application/json")
        if content and "schema" in content:
            body = response.json()
            for error in _validator(content["schema"], self.version).iter_errors(body):
                if error.validator == "enum" and error.instance is None and error.schema.get("nullable"):
                    continue  # OpenAPI 3.0.3: `nullable: true` admits null even where an enum lists the values
                at = "/".join(str(p) for p in error.absolute_path)
                self.errors.append(f"{where}: body at /{at}: {error.message[:200]}")
        elif response.status_code not in (204, 304) and response.content and not content:
            self.errors.append(f"{where}: a body where {template} documents none")
        for name, header in (documented.get("headers") or {}).items():
            header = _resolve(header)
            value = response.headers.get(name)
            if value is None:
                if header.get("required"):
                    self.errors.append(f"{where}: required header {name} missing")
                continue
            schema = header.get("schema") or {"type": "string"}
            candidate: Any = int(value) if schema.get("type") == "integer" and value.isdigit() else value
            for error in _validator(schema).iter_errors(candidate):
                self.errors.append(f"{where}: header {name}: {error.message[:200]}")
        self.checked[(template, response.status_code)] = self.checked.get((template, response.status_code), 0) + 1
