"""Strict validation of custom resources against the CRD schemas in shared/schemas/crds."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from tests.deploy.k8s.manifests import crd_schema_dir

# Kubernetes ObjectMeta as a manifest may set it; CRD schemas only say `metadata: {type: object}`.
OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


def strict(schema: Any) -> Any:
    """Close every object schema that lists its properties, so a misspelled field fails validation.

    Objects that preserve unknown fields, or already say what extra keys may hold, are left as they are.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def validator(group: str, kind: str, version: str) -> Draft7Validator:
    path: Path = crd_schema_dir() / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        raise AssertionError(f"no CRD schema for {kind} {group}/{version} (looked for {path})")
    schema = strict(json.loads(path.read_text()))
    schema = copy.deepcopy(schema)
    schema.setdefault("properties", {})
    schema["properties"]["metadata"] = OBJECT_META
    schema["properties"].setdefault("apiVersion", {"type": "string"})
    schema["properties"].setdefault("kind", {"type": "string"})
    schema["additionalProperties"] = False
    return Draft7Validator(schema)


def is_custom_resource(doc: dict[str, Any]) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def errors(doc: dict[str, Any]) -> list[str]:
    """Validation errors of one custom resource, each with the path of the offending field."""
    group, _, version = doc["apiVersion"].rpartition("/")
    found = validator(group, doc["kind"], version).iter_errors(doc)
    return [f"{'/'.join(str(p) for p in err.absolute_path)}: {err.message}" for err in found]
