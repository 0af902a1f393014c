"""What operators are told to type names objects the kit really creates: every `kubectl ... <kind>/<name>`
in the runbooks, the operations and Kubernetes guides and Terraform's next steps names an object some
environment renders, or one an optional component under deploy/k8s declares (a runbook naming
deploy/hyperpage fails at 3 a.m. with NotFound)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS
from tests.deploy.system.world import environment
from tests.tooling import REPO_ROOT

# kubectl's resource short names and singular names (kubectl api-resources).
KINDS = {
    "deploy": "Deployment",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "job": "Job",
    "jobs": "Job",
    "cronjob": "CronJob",
    "cj": "CronJob",
    "svc": "Service",
    "service": "Service",
    "cm": "ConfigMap",
    "configmap": "ConfigMap",
    "secret": "Secret",
    "pvc": "PersistentVolumeClaim",
    "persistentvolumeclaim": "PersistentVolumeClaim",
}
_KIND = "|".join(sorted(KINDS, key=len, reverse=True))
# kind/name as a kubectl argument, not a path (deploy/k8s/overlays, `apply -k deploy/argocd`).
REFERENCE = re.compile(rf"(?<![\w/.-])(?<!-k )(?<!-f )(?P<kind>{_KIND})/(?P<name>[a-z0-9][a-z0-9-]*)(?![\w/.-])")
SOURCES = [
    *sorted((REPO_ROOT / "docs" / "runbooks").glob("*.md")),
    REPO_ROOT / "docs" / "operations.md",
    REPO_ROOT / "docs" / "kubernetes.md",
    REPO_ROOT / "deploy" / "terraform" / "outputs.tf",
]


def _kubectl_commands(path: Path) -> list[str]:
    """Each kubectl command written in the file: from `kubectl` to the end of its code span or line."""
    commands = []
    for line in path.read_text().splitlines():
        for part in line.split("kubectl ")[1:]:
            commands.append("kubectl " + part.split("`")[0])
    return commands


def _declared() -> set[tuple[str, str]]:
    """(kind, name) of every object written in deploy/k8s, including components no overlay uses yet."""
    found = set()
    for path in K8S_DIR.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "kind" in doc and "name" in (doc.get("metadata") or {}):
                found.add((doc["kind"], doc["metadata"]["name"]))
    return found


def test_kubectl_commands_name_objects_the_kit_renders() -> None:
    rendered = _declared()
    for name in OVERLAYS:
        for doc in environment(name).app.docs:
            rendered.add((doc["kind"], doc["metadata"]["name"]))
    found = 0
    for path in SOURCES:
        for line in _kubectl_commands(path):
            for match in REFERENCE.finditer(line):
                kind, name = KINDS[match.group("kind")], match.group("name")
                if name.endswith("-"):
                    continue  # a name prefix in prose, such as hyperpage-backup-<date>
                found += 1
                assert (kind, name) in rendered, (
                    f"{path.relative_to(REPO_ROOT)}: `{match.group(0)}` names a {kind} the kit does not create: "
                    f"{line.strip()}"
                )
    assert found, "no kubectl object references found: the pattern no longer matches the docs"
